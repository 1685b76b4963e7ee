module github.com/triagekit/triage/bench

go 1.25.0

replace github.com/triagekit/triage => ../

require (
	github.com/alexliesenfeld/health v0.8.0
	github.com/triagekit/triage v0.0.0-00010101000000-000000000000
)

require golang.org/x/sys v0.47.0 // indirect
