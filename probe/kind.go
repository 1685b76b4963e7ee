package probe

// The kinds of check this package makes: the Check of their results.
const (
	KindTCP  = "probe.tcp"
	KindHTTP = "probe.http"
	KindDB   = "probe.db"
)
