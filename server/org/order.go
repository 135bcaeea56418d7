package org

// ResourceLess is the order of a company's resources (Resources): by type, then name,
// then id. A permission matrix page's cursor resumes in it.
func ResourceLess(a, b *Resource) bool { return resourceLess(a, b) }
