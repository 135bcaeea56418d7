package audit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Checking a journal file's pages before bbolt walks them.
//
// bbolt trusts its pages: a page that is not what its reference says makes it assert,
// and a reference past the end of the file makes it read outside the mapping. Inside our
// own goroutine guard turns either into ErrDamaged; but Tx.Check reads on a goroutine of
// its own, where nothing can recover, and a cycle in the page tree makes any cursor
// descend forever. So before the offline readers walk a file, and before verify lets
// Tx.Check loose on it, checkPages reads the file itself, through Go's bounds checks, at
// every place those walks would: both meta pages, the freelist page, and every page of every
// bucket's tree (branch and leaf headers, element arrays, keys, values, sub-bucket
// headers). Only when it finds nothing is the file handed to code that trusts it.
//
// The layout is bbolt's (go.etcd.io/bbolt/internal/common), written in the machine's
// byte order: a 16-byte page header {id u64, flags u16, count u16, overflow u32}, then
// the page's contents.
const (
	pageHeaderSize   = 16
	pageElementSize  = 16 // a branch {pos u32, ksize u32, pgid u64} or leaf {flags, pos, ksize, vsize u32} element
	bucketHeaderSize = 16 // {root pgid u64, sequence u64}, then an inline bucket's page

	branchPageFlag   = 0x01
	leafPageFlag     = 0x02
	metaPageFlag     = 0x04
	freelistPageFlag = 0x10
	bucketLeafFlag   = 0x01

	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	metaChecksumAt   = 56 // the meta's checksum covers its bytes before this offset
	noFreelist       = ^uint64(0)
	freelistOverflow = 0xFFFF // a freelist count this large is stored in the first element
)

var byteOrder = binary.NativeEndian

// pageDamage is what checkPages found.
type pageDamage struct {
	// Problems says, per damaged page, what is wrong with it.
	Problems []string
	// TreeSound is true when every bucket's pages can be walked safely: the records can
	// be read, even if a meta or freelist page is damaged.
	TreeSound bool
}

// checkPages reads the file bbolt opened with page size ps and reports every page bbolt
// would trust but should not. A bug here turns into a damage report, never a crash.
func checkPages(path string, ps int) pageDamage {
	var d pageDamage
	err := guard(path, func() error {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("check pages: %w", err)
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			return fmt.Errorf("check pages: %w", err)
		}
		// Mapped, as bbolt maps it, not read: a journal can be large and this is on every
		// offline read. Every access below is bounds-checked against the file's size, and
		// the file is locked or a private snapshot, so it does not shrink meanwhile.
		data, err := syscall.Mmap(int(f.Fd()), 0, int(info.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
		if err != nil {
			return fmt.Errorf("check pages: map %s: %w", path, err)
		}
		defer syscall.Munmap(data)
		// The walk below, then bbolt's, touch every page in tree order: on a cold file
		// each fault would be a small read of its own. Asking for the whole file at once
		// lets the kernel read it ahead at the disk's pace (a hint; nothing depends on it).
		_ = unix.Fadvise(int(f.Fd()), 0, info.Size(), unix.FADV_WILLNEED)
		d = (&pageChecker{data: data, ps: uint64(ps), pages: uint64(len(data)) / uint64(ps)}).run()
		return nil
	})
	if err != nil {
		return pageDamage{Problems: []string{err.Error()}}
	}
	return d
}

type pageChecker struct {
	data  []byte // the file
	ps    uint64
	pages uint64 // whole pages in the file
	hwm   uint64 // the high-water mark: pages at or past it are not in use
	seen  map[uint64]bool
	d     pageDamage
}

// boltMeta is the part of a meta page that says where everything is.
type boltMeta struct {
	ok                        bool   // bbolt accepts it: magic, version and checksum
	damage                    string // what is wrong with the page, if anything
	pageSize                  uint32
	root, freelist, hwm, txid uint64
}

func (c *pageChecker) run() pageDamage {
	c.d.TreeSound = true
	metas := [2]boltMeta{c.meta(0), c.meta(1)}
	// bbolt reads through the meta with the higher txid if it is valid, else the other.
	use := 0
	if metas[1].txid > metas[0].txid {
		use = 1
	}
	if !metas[use].ok {
		use = 1 - use
	}
	for i, m := range metas {
		switch {
		case m.damage == "":
		case i == use: // only the page header: bbolt reads the meta, Tx.Check would assert
			c.d.Problems = append(c.d.Problems, fmt.Sprintf("meta page %d is damaged (%s); its meta data is intact and bbolt is using it", i, m.damage))
		default:
			c.d.Problems = append(c.d.Problems, fmt.Sprintf("meta page %d is damaged (%s); bbolt is using meta page %d", i, m.damage, use))
		}
	}
	m := metas[use]
	if !m.ok { // bbolt.Open refuses such a file; nothing more to read
		c.d.TreeSound = false
		return c.d
	}
	if uint64(m.pageSize) != c.ps {
		c.tree("meta page %d gives a page size of %d, but bbolt reads %d", use, m.pageSize, c.ps)
		return c.d
	}
	if m.hwm > c.pages {
		c.tree("the file ends at page %d, but meta page %d says %d pages are in use (the file was cut short)", c.pages, use, m.hwm)
		return c.d
	}
	c.hwm = m.hwm
	c.seen = map[uint64]bool{0: true, 1: true}
	if err := c.walkTree(m.root, "the root bucket"); err != nil {
		c.tree("%v", err)
	}
	// After the tree, so that a freelist header claiming the tree's pages is the
	// freelist's damage, not the tree's.
	if m.freelist != noFreelist {
		if err := c.freelistPage(m.freelist); err != nil {
			c.d.Problems = append(c.d.Problems, fmt.Sprintf("the freelist page %d is damaged: %v", m.freelist, err))
		}
	}
	return c.d
}

func (c *pageChecker) tree(format string, args ...any) {
	c.d.TreeSound = false
	c.d.Problems = append(c.d.Problems, fmt.Sprintf(format, args...))
}

// meta reads meta page i as bbolt would, and what is wrong with it.
func (c *pageChecker) meta(i uint64) boltMeta {
	if i*c.ps+pageHeaderSize+64 > uint64(len(c.data)) {
		return boltMeta{damage: "the file ends before it"}
	}
	p := c.data[i*c.ps:]
	body := p[pageHeaderSize:]
	m := boltMeta{
		pageSize: byteOrder.Uint32(body[8:]),
		root:     byteOrder.Uint64(body[16:]),
		freelist: byteOrder.Uint64(body[32:]),
		hwm:      byteOrder.Uint64(body[40:]),
		txid:     byteOrder.Uint64(body[48:]),
	}
	sum := fnv.New64a()
	sum.Write(body[:metaChecksumAt])
	var why []string
	switch {
	case byteOrder.Uint32(body) != boltMagic:
		why = append(why, "not a bbolt meta page")
	case byteOrder.Uint32(body[4:]) != boltVersion:
		why = append(why, fmt.Sprintf("format version %d", byteOrder.Uint32(body[4:])))
	case sum.Sum64() != byteOrder.Uint64(body[metaChecksumAt:]):
		why = append(why, "its checksum does not match")
	default:
		m.ok = true
	}
	// Tx.Check asserts on these two even when the meta itself is accepted.
	if id := byteOrder.Uint64(p); id != i {
		why = append(why, fmt.Sprintf("its header names page %d", id))
	}
	if flags := byteOrder.Uint16(p[8:]); flags != metaPageFlag {
		why = append(why, fmt.Sprintf("its header's type is %#x, not meta", flags))
	}
	m.damage = strings.Join(why, ", ")
	return m
}

// span returns page id with its overflow pages, having checked that its header names it
// and has one of the wanted types, that all of it is in use, and that nothing else
// reached it before.
func (c *pageChecker) span(id uint64, wantFlags ...uint16) ([]byte, error) {
	if id < 2 || id >= c.hwm {
		return nil, fmt.Errorf("page %d is outside the pages in use (2 to %d)", id, c.hwm-1)
	}
	h := c.data[id*c.ps:] // id < hwm <= the file's pages
	if got := byteOrder.Uint64(h); got != id {
		return nil, fmt.Errorf("page %d's header names page %d", id, got)
	}
	flags := byteOrder.Uint16(h[8:])
	okType := false
	for _, f := range wantFlags {
		okType = okType || flags == f
	}
	if !okType {
		return nil, fmt.Errorf("page %d has type %#x", id, flags)
	}
	overflow := uint64(byteOrder.Uint32(h[12:]))
	if id+overflow >= c.hwm {
		return nil, fmt.Errorf("page %d runs on for %d pages, past the pages in use", id, overflow)
	}
	for i := id; i <= id+overflow; i++ {
		if c.seen[i] {
			return nil, fmt.Errorf("page %d is reached twice", i)
		}
		c.seen[i] = true
	}
	return c.data[id*c.ps : (id+overflow+1)*c.ps], nil
}

func (c *pageChecker) freelistPage(id uint64) error {
	p, err := c.span(id, freelistPageFlag)
	if err != nil {
		return err
	}
	n, first := uint64(byteOrder.Uint16(p[10:])), uint64(0)
	if n == freelistOverflow && len(p) >= pageHeaderSize+8 {
		n, first = byteOrder.Uint64(p[pageHeaderSize:]), 1
	}
	if (uint64(len(p))-pageHeaderSize)/8 < n+first {
		return fmt.Errorf("it lists %d free pages, more than it holds", n)
	}
	return nil
}

// walkTree checks the tree of pages rooted at id, of the bucket called what, and every
// sub-bucket's tree.
func (c *pageChecker) walkTree(id uint64, what string) error {
	p, err := c.span(id, branchPageFlag, leafPageFlag)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n := uint64(byteOrder.Uint16(p[10:]))
	if pageHeaderSize+n*pageElementSize > uint64(len(p)) {
		return fmt.Errorf("%s: page %d says it holds %d elements, more than fit", what, id, n)
	}
	if byteOrder.Uint16(p[8:]) == branchPageFlag {
		if n == 0 {
			return fmt.Errorf("%s: branch page %d is empty", what, id)
		}
		for i := range n {
			e := pageHeaderSize + i*pageElementSize
			pos, ksize := uint64(byteOrder.Uint32(p[e:])), uint64(byteOrder.Uint32(p[e+4:]))
			if e+pos+ksize > uint64(len(p)) {
				return fmt.Errorf("%s: page %d element %d's key lies outside the page", what, id, i)
			}
			if err := c.walkTree(byteOrder.Uint64(p[e+8:]), what); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range n {
		e := pageHeaderSize + i*pageElementSize
		flags := byteOrder.Uint32(p[e:])
		pos, ksize, vsize := uint64(byteOrder.Uint32(p[e+4:])), uint64(byteOrder.Uint32(p[e+8:])), uint64(byteOrder.Uint32(p[e+12:]))
		if e+pos+ksize+vsize > uint64(len(p)) {
			return fmt.Errorf("%s: page %d element %d lies outside the page", what, id, i)
		}
		if flags&bucketLeafFlag == 0 {
			continue
		}
		key, value := p[e+pos:e+pos+ksize], p[e+pos+ksize:e+pos+ksize+vsize]
		child := fmt.Sprintf("bucket %q", truncate(string(key), 40))
		if len(value) < bucketHeaderSize {
			return fmt.Errorf("%s: page %d: %s's header is cut short", what, id, child)
		}
		if root := byteOrder.Uint64(value); root != 0 {
			if err := c.walkTree(root, child); err != nil {
				return err
			}
		} else if err := inlineBucket(value[bucketHeaderSize:]); err != nil {
			return fmt.Errorf("%s: page %d: %s: %w", what, id, child, err)
		}
	}
	return nil
}

// inlineBucket checks a small bucket kept inside its parent's value: one leaf page,
// whose elements must lie within the value. Its own sub-buckets are not followed: none
// of our buckets has any, and nothing reads them.
func inlineBucket(p []byte) error {
	if len(p) < pageHeaderSize {
		return errors.New("its inline page is cut short")
	}
	if byteOrder.Uint16(p[8:]) != leafPageFlag {
		return errors.New("its inline page is not a leaf page")
	}
	n := uint64(byteOrder.Uint16(p[10:]))
	if pageHeaderSize+n*pageElementSize > uint64(len(p)) {
		return fmt.Errorf("its inline page says it holds %d elements, more than fit", n)
	}
	for i := range n {
		e := pageHeaderSize + i*pageElementSize
		pos, ksize, vsize := uint64(byteOrder.Uint32(p[e+4:])), uint64(byteOrder.Uint32(p[e+8:])), uint64(byteOrder.Uint32(p[e+12:]))
		if e+pos+ksize+vsize > uint64(len(p)) {
			return fmt.Errorf("its inline page's element %d lies outside it", i)
		}
	}
	return nil
}
