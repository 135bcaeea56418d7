package org

import "time"

// Dataset is the operational data of one company that dashboard widgets are computed
// from. Rows point at resources (vehicles, drivers, invoices), so row-level visibility
// is the permission to view the resource a row belongs to.
type Dataset struct {
	Vehicles  []Vehicle
	Drivers   []Driver
	Jobs      []Job
	Trips     []Trip
	Invoices  []Invoice
	Incidents []Incident
}

// Vehicle is one vehicle of the fleet (resource TypeVehicle).
type Vehicle struct {
	ResourceID  string
	Name        string
	TeamID      string
	Status      string // "active", "maintenance", "idle"
	Mileage     int    // km
	FuelL100    float64
	DriverID    string  // resource id of the usual driver
	MonthlyCost float64 // billing: sensitive
}

// Driver is one driver (resource TypeDriver). Phone and Email are personal contact
// data: sensitive.
type Driver struct {
	ResourceID string
	Name       string
	TeamID     string
	Licence    string
	Phone      string
	Email      string
	HoursWeek  float64
}

// Job is a maintenance job on a vehicle; visible with the vehicle.
type Job struct {
	ID         string
	VehicleID  string
	Technician string
	Kind       string
	Status     string // "open", "in progress", "done"
	Hours      float64
	Opened     time.Time
}

// Trip is one vehicle's distance and fuel on one day; visible with the vehicle.
type Trip struct {
	VehicleID string
	Day       time.Time
	Km        float64
	FuelL     float64
}

// Invoice is one invoice of the company (resource TypeInvoice). Amount and CardLast4
// are billing data: sensitive.
type Invoice struct {
	ResourceID string
	Number     string
	Date       time.Time
	Amount     float64
	Status     string
	CardLast4  string
}

// Incident is a safety incident involving a vehicle; visible with the vehicle.
type Incident struct {
	VehicleID   string
	Date        time.Time
	Severity    string // "low", "medium", "high"
	Description string
}
