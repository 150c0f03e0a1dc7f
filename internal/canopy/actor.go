package canopy

// PersonID is the internal identifier of a person (staff or end user).
type PersonID int64

// ActorKind says what kind of principal made a change.
type ActorKind string

// Actor kinds.
const (
	ActorPerson ActorKind = "person"
	ActorSystem ActorKind = "system"
	ActorAPIKey ActorKind = "api_key"
)

// Actor is who makes a change and, under Admin Login, on whose behalf. The
// change log records both identities.
type Actor struct {
	Kind     ActorKind
	PersonID PersonID
	Name     string // display name at the time of the change

	// OnBehalfOf is set while acting inside a customer under Admin Login.
	OnBehalfOfID   PersonID
	OnBehalfOfName string

	IP        string
	UserAgent string
}

// System is the actor of scheduled and background work.
func System(job string) Actor {
	return Actor{Kind: ActorSystem, Name: "Canopy (" + job + ")"}
}
