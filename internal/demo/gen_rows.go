package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

// batchRows is how many rows travel together from the producer to the
// loader: one SQLite transaction or one COPY.
const batchRows = 50_000

// batch is rows of one table, ready to load.
type batch struct {
	table string
	rows  int
	load  func(ctx context.Context, b *store.BulkLoader) error
}

type sendFunc func(batch) error

// stream gathers the rows of one table into batches. Loaded batches come
// back through free to be filled again: with tens of millions of rows,
// allocating every batch anew kept the collector busy on the core the
// loader needs.
type stream[T any] struct {
	table string
	load  func(*store.BulkLoader, context.Context, []T) error
	send  sendFunc
	rows  []T
	free  chan []T
}

func newStream[T any](table string, load func(*store.BulkLoader, context.Context, []T) error, send sendFunc) *stream[T] {
	return &stream[T]{table: table, load: load, send: send, rows: make([]T, 0, batchRows), free: make(chan []T, 4)}
}

func (s *stream[T]) add(row T) error {
	s.rows = append(s.rows, row)
	if len(s.rows) >= batchRows {
		return s.flush()
	}
	return nil
}

// flush sends what is gathered; the loader owns the sent slice until it
// has been written.
func (s *stream[T]) flush() error {
	if len(s.rows) == 0 {
		return nil
	}
	rows, load, free := s.rows, s.load, s.free
	select {
	case s.rows = <-free:
	default:
		s.rows = make([]T, 0, batchRows)
	}
	return s.send(batch{table: s.table, rows: len(rows), load: func(ctx context.Context, b *store.BulkLoader) error {
		err := load(b, ctx, rows)
		select {
		case free <- rows[:0]:
		default:
		}
		return err
	}})
}

// produce sends every row of the dataset, table by table in load order.
// End users come before customers: a customer's active_users is counted
// while its users are made.
func (p *plan) produce(send sendFunc) error {
	for _, step := range []func(sendFunc) error{
		p.produceOrgs, p.produceStaff, p.produceEndUsers, p.produceCustomers,
		p.produceGroups, p.produceGroupMembers, p.produceChanges,
	} {
		if err := step(send); err != nil {
			return err
		}
	}
	return nil
}

func (p *plan) produceOrgs(send sendFunc) error {
	st := newStream("orgs", (*store.BulkLoader).Orgs, send)
	if err := st.add(p.distributor.org); err != nil {
		return err
	}
	for _, m := range p.msps {
		if err := st.add(m.org); err != nil {
			return err
		}
	}
	for _, c := range p.customers {
		if err := st.add(c.org); err != nil {
			return err
		}
	}
	return st.flush()
}

func (p *plan) produceStaff(send sendFunc) error {
	people := newStream("people", (*store.BulkLoader).People, send)
	for _, s := range p.staff {
		err := people.add(store.BulkPerson{Person: store.Person{ID: s.id, Email: s.email, Name: s.name}, Created: s.created})
		if err != nil {
			return err
		}
	}
	if err := people.flush(); err != nil {
		return err
	}
	memberships := newStream("memberships", (*store.BulkLoader).Memberships, send)
	for _, s := range p.staff {
		err := memberships.add(store.BulkMembership{PersonID: s.id, OrgID: s.org.ID, Roles: s.roles, Status: "active", Created: s.created})
		if err != nil {
			return err
		}
	}
	return memberships.flush()
}

func (p *plan) produceEndUsers(send sendFunc) error {
	rng := p.rng(phaseUsers)
	st := newStream("end_users", (*store.BulkLoader).EndUsers, send)
	now := p.now.UnixMilli()
	for i := range p.customers {
		c := &p.customers[i]
		since := c.org.Created.UnixMilli()
		active := 0
		for k := range c.users {
			given, family, local := p.personName(c.nameSalt, int(k))
			created := since + rng.Int64N(max(1, now-since))
			u := store.BulkEndUser{
				ID: c.firstUser + k, CustomerID: c.org.ID, Email: local + "@" + c.org.Domain,
				FirstName: given, LastName: family, Status: "active", Source: c.source,
				Created: time.UnixMilli(created), Updated: time.UnixMilli(created + rng.Int64N(max(1, now-created))),
			}
			// About 5 % of users are deactivated; the rest count as active.
			if rng.IntN(100) < 5 {
				u.Status = "deactivated"
			} else {
				active++
			}
			switch c.source {
			case "entra", "scim":
				u.ExternalID = newUUID(rng)
			case "google":
				u.ExternalID = "1" + fmt.Sprintf("%020d", rng.Uint64()%1e19)
			}
			if err := st.add(u); err != nil {
				return err
			}
		}
		c.org.ActiveUsers = active
	}
	return st.flush()
}

func (p *plan) produceCustomers(send sendFunc) error {
	st := newStream("customers", (*store.BulkLoader).Customers, send)
	for _, c := range p.customers {
		if err := st.add(c.org); err != nil {
			return err
		}
	}
	return st.flush()
}

// groupName is the g-th group of a customer whose names start at offset.
func groupName(names []string, offset int, g int64) string {
	name := names[(int(g)+offset)%len(names)]
	if round := int(g) / len(names); round > 0 {
		name += " " + strconv.Itoa(round+1)
	}
	return name
}

func (p *plan) produceGroups(send sendFunc) error {
	rng := p.rng(phaseGroups)
	names := genGroupNames()
	st := newStream("user_groups", (*store.BulkLoader).Groups, send)
	now := p.now.UnixMilli()
	for _, c := range p.customers {
		since := c.org.Created.UnixMilli()
		for g := range c.groups {
			row := store.BulkGroup{ID: c.firstGroup + g, CustomerID: c.org.ID, Name: groupName(names, c.groupSalt, g),
				Created: time.UnixMilli(since + rng.Int64N(max(1, now-since)))}
			if c.source != "manual" {
				row.ExternalID = newUUID(rng)
			}
			if err := st.add(row); err != nil {
				return err
			}
		}
	}
	return st.flush()
}

// produceGroupMembers fills each customer's groups with distinct users of
// that customer. Group sizes are skewed (exponential weights); members of a
// group are a uniform sample, sent sorted so the primary key grows at its end.
func (p *plan) produceGroupMembers(send sendFunc) error {
	rng := p.rng(phaseMembers)
	st := newStream("group_members", (*store.BulkLoader).GroupMembers, send)
	var largest int64
	for _, c := range p.customers {
		largest = max(largest, c.users)
	}
	perm := make([]int32, largest)
	chosen := make([]int32, 0, largest)
	for _, c := range p.customers {
		if c.members == 0 || c.groups == 0 {
			continue
		}
		u := int(c.users)
		for i := range u {
			perm[i] = int32(i)
		}
		weights := make([]float64, c.groups)
		caps := make([]int64, c.groups)
		for g := range weights {
			weights[g], caps[g] = rng.ExpFloat64()+0.05, c.users
		}
		sizes, err := apportion(c.members, weights, caps)
		if err != nil {
			return fmt.Errorf("group sizes of customer %d: %w", c.org.ID, err)
		}
		for g, size := range sizes {
			// A partial Fisher–Yates shuffle leaves perm a permutation, so
			// the next group samples from it without resetting.
			k := int(size)
			for j := range k {
				r := j + rng.IntN(u-j)
				perm[j], perm[r] = perm[r], perm[j]
			}
			chosen = append(chosen[:0], perm[:k]...)
			slices.Sort(chosen)
			for _, idx := range chosen {
				if err := st.add(store.BulkGroupMember{GroupID: c.firstGroup + int64(g), EndUserID: c.firstUser + int64(idx)}); err != nil {
					return err
				}
			}
		}
	}
	return st.flush()
}

// target says what a change-log entry is about.
type target uint8

const (
	targetEndUser target = iota
	targetGroup
	targetMember   // a group, with the user added or removed in the snapshot
	targetCustomer // the customer itself (customer level) or one of the MSP's customers
	targetOrg      // the MSP itself (MSP level) or one of the distributor's MSPs
	targetStaff
	targetSelf // the actor (sign-in)
	targetRole
	targetAPIKey
	targetSubAccount
)

// actionSpec is one action of the change-log mix, how often it occurs
// relative to the others of its level, and what it is about.
type actionSpec struct {
	action canopy.Action
	weight int
	target target
	system bool // done by Canopy itself
}

// changeMix lists the actions at each level of the tree. Every action of
// canopy.Actions occurs somewhere, so every change-log filter has rows.
func changeMix() (customer, msp, distributor []actionSpec) {
	customer = []actionSpec{
		{canopy.ActionAddUser, 10, targetEndUser, false},
		{canopy.ActionUpdateUser, 10, targetEndUser, false},
		{canopy.ActionRemoveUser, 2, targetEndUser, false},
		{canopy.ActionDeactivateUser, 3, targetEndUser, false},
		{canopy.ActionReactivateUser, 1, targetEndUser, false},
		{canopy.ActionEmailChanged, 1, targetEndUser, false},
		{canopy.ActionReset2FA, 1, targetEndUser, false},
		{canopy.ActionRegistrationResent, 2, targetEndUser, false},
		{canopy.ActionInviteSent, 3, targetEndUser, false},
		{canopy.ActionInviteResent, 1, targetEndUser, false},
		{canopy.ActionInviteRevoked, 1, targetEndUser, false},
		{canopy.ActionInviteAccepted, 2, targetEndUser, false},
		{canopy.ActionSignIn, 20, targetSelf, false},
		{canopy.ActionAdminLoginStart, 4, targetCustomer, false},
		{canopy.ActionAdminLoginEnd, 4, targetCustomer, false},
		{canopy.ActionAddGroupMember, 10, targetMember, false},
		{canopy.ActionRemoveGroupMember, 4, targetMember, false},
		{canopy.ActionAddUserGroup, 2, targetGroup, false},
		{canopy.ActionRemoveUserGroup, 1, targetGroup, false},
		{canopy.ActionSetGroupManagers, 1, targetGroup, false},
		{canopy.ActionUpdateCustomer, 2, targetCustomer, false},
		{canopy.ActionChangeStatus, 1, targetCustomer, false},
		{canopy.ActionUpdateSettings, 2, targetCustomer, false},
		{canopy.ActionUpdateDefaults, 1, targetCustomer, false},
		{canopy.ActionDirectorySyncRun, 4, targetCustomer, true},
		{canopy.ActionCreateSubAccount, 1, targetSubAccount, false},
		{canopy.ActionDeleteSubAccount, 1, targetSubAccount, false},
		{canopy.ActionAddRole, 1, targetRole, false},
		{canopy.ActionRemoveRole, 1, targetRole, false},
		{canopy.ActionGrantRole, 1, targetRole, false},
		{canopy.ActionRevokeRole, 1, targetRole, false},
		{canopy.ActionCreateAPIKey, 1, targetAPIKey, false},
		{canopy.ActionRevokeAPIKey, 1, targetAPIKey, false},
	}
	msp = []actionSpec{
		{canopy.ActionCreateCustomer, 4, targetCustomer, false},
		{canopy.ActionDeleteCustomer, 1, targetCustomer, false},
		{canopy.ActionAddClient, 2, targetCustomer, false},
		{canopy.ActionRemoveClient, 1, targetCustomer, false},
		{canopy.ActionAddCompany, 1, targetCustomer, false},
		{canopy.ActionRemoveCompany, 1, targetCustomer, false},
		{canopy.ActionExpireTrial, 1, targetCustomer, true},
		{canopy.ActionAddSupportUser, 2, targetStaff, false},
		{canopy.ActionRemoveSupportUser, 1, targetStaff, false},
		{canopy.ActionSignIn, 10, targetSelf, false},
		{canopy.ActionUpdateSettings, 2, targetOrg, false},
		{canopy.ActionUpdateOrg, 1, targetOrg, false},
		{canopy.ActionAddRoleGroup, 1, targetRole, false},
		{canopy.ActionRemoveRoleGroup, 1, targetRole, false},
		{canopy.ActionGrantRoleGroup, 1, targetRole, false},
		{canopy.ActionRevokeRoleGroup, 1, targetRole, false},
	}
	distributor = []actionSpec{
		{canopy.ActionCreateOrg, 3, targetOrg, false},
		{canopy.ActionUpdateOrg, 2, targetOrg, false},
		{canopy.ActionDeleteOrg, 1, targetOrg, false},
		{canopy.ActionAddCompanyGroup, 1, targetOrg, false},
		{canopy.ActionRemoveCompanyGrp, 1, targetOrg, false},
		{canopy.ActionAddSupportUser, 1, targetStaff, false},
		{canopy.ActionSignIn, 10, targetSelf, false},
		{canopy.ActionUpdateSettings, 1, targetOrg, false},
	}
	return customer, msp, distributor
}

// picker draws from weighted choices in constant time.
type picker []int

func newPicker[T any](items []T, weight func(T) int) picker {
	var p picker
	for i, it := range items {
		for range weight(it) {
			p = append(p, i)
		}
	}
	return p
}

// cumulative draws index i with probability weights[i]/sum by bisection.
type cumulative []int64

func newCumulative(n int, weight func(int) int64) cumulative {
	c := make(cumulative, n)
	var sum int64
	for i := range n {
		sum += weight(i)
		c[i] = sum
	}
	return c
}

func (c cumulative) draw(r int64) int {
	i, _ := slices.BinarySearch(c, r+1)
	return i
}

// jsonObject renders {"k1":v1,…} from key/value pairs; string values are
// quoted (the generator's strings are plain ASCII), int64 values are not.
func jsonObject(kv ...any) json.RawMessage {
	b := make([]byte, 0, 64)
	b = append(b, '{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, kv[i].(string))
		b = append(b, ':')
		switch v := kv[i+1].(type) {
		case string:
			b = strconv.AppendQuote(b, v)
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		}
	}
	return append(b, '}')
}

// produceChanges writes the change log: entries spread evenly over the two
// years before now with IDs in time order, 95 % about customers (chosen in
// proportion to their size), 4 % about MSPs, 1 % about the distributor.
func (p *plan) produceChanges(send sendFunc) error {
	rng := p.rng(phaseChanges)
	st := newStream("change_log", (*store.BulkLoader).Changes, send)
	customerMix, mspMix, distributorMix := changeMix()
	weight := func(a actionSpec) int { return a.weight }
	customerPick, mspPick, distributorPick := newPicker(customerMix, weight), newPicker(mspMix, weight), newPicker(distributorMix, weight)
	byCustomer := newCumulative(len(p.customers), func(i int) int64 { return p.customers[i].users + 5 })
	byMSP := newCumulative(len(p.msps), func(i int) int64 { return int64(p.msps[i].custHi-p.msps[i].custLo) + 1 })
	names := genGroupNames()
	agents := genUserAgents()
	ips := make([]string, 254)
	for i := range ips {
		ips[i] = "203.0.113." + strconv.Itoa(i+1)
	}
	sync := map[string]canopy.Actor{}
	for _, source := range []string{"manual", "entra", "google", "scim"} {
		sync[source] = canopy.System(source + " directory sync")
	}
	trialJob := canopy.System("trial expiry")
	var (
		statusActive      = jsonObject("status", "active")
		statusDeactivated = jsonObject("status", "deactivated")
		statusTrial       = jsonObject("status", "trial")
		statusExpired     = jsonObject("status", "trial_expired")
		timeoutBefore     = jsonObject("session_timeout_minutes", 60)
		timeoutAfter      = jsonObject("session_timeout_minutes", 30)
		twoStepOn         = jsonObject("two_step", "enabled")
		twoStepReset      = jsonObject("two_step", "reset")
	)
	staffActor := func(s staffPlan) canopy.Actor {
		return canopy.Actor{Kind: canopy.ActorPerson, PersonID: s.id, Name: s.name, IP: ips[rng.IntN(len(ips))]}
	}
	pickStaff := func(o orgPlan) staffPlan { return p.staff[o.staffLo+rng.IntN(o.staffHi-o.staffLo)] }

	n := p.shape.changes
	start := p.now.AddDate(-2, 0, 0).UnixMilli()
	step := float64(p.now.UnixMilli()-start) / float64(max(n, 1))
	for i := range n {
		at := start + int64(float64(i)*step+rng.Float64()*step)
		ch := canopy.Change{ID: p.firstChange + canopy.ChangeID(i), At: time.UnixMilli(at)}
		var spec actionSpec
		switch r := rng.IntN(100); {
		case r < 95 && len(p.customers) > 0:
			c := &p.customers[byCustomer.draw(rng.Int64N(byCustomer[len(byCustomer)-1]))]
			msp := p.msps[c.msp]
			spec = customerMix[customerPick[rng.IntN(len(customerPick))]]
			ch.OrgID, ch.OrgPath = c.org.ID, c.org.Path
			switch {
			case spec.system:
				ch.Actor = sync[c.source]
			case rng.IntN(20) == 0:
				// Distributor staff stepping in for the MSP.
				d, m := pickStaff(p.distributor), pickStaff(msp)
				ch.Actor = staffActor(d)
				ch.Actor.OnBehalfOfID, ch.Actor.OnBehalfOfName = m.id, m.name
			default:
				ch.Actor = staffActor(pickStaff(msp))
			}
			// Only entries about a user pay for making its address.
			var user int64
			var given, family, email string
			if spec.target == targetEndUser || spec.target == targetMember {
				var local string
				user = rng.Int64N(c.users)
				given, family, local = p.personName(c.nameSalt, int(user))
				email = local + "@" + c.org.Domain
			}
			switch spec.target {
			case targetEndUser:
				ch.TargetType, ch.TargetID, ch.TargetName = "end_user", strconv.FormatInt(c.firstUser+user, 10), email
			case targetGroup, targetMember:
				g := rng.Int64N(c.groups)
				ch.TargetType, ch.TargetID = "user_group", strconv.FormatInt(c.firstGroup+g, 10)
				ch.TargetName = groupName(names, c.groupSalt, g)
			case targetCustomer:
				ch.TargetType, ch.TargetID, ch.TargetName = "customer", c.org.TenantID, c.org.Name
			case targetSelf:
				ch.TargetType, ch.TargetID, ch.TargetName = "person", strconv.FormatInt(int64(ch.Actor.PersonID), 10), ch.Actor.Name
				ch.Actor.UserAgent = agents[rng.IntN(len(agents))]
			case targetRole:
				ch.TargetType, ch.TargetID, ch.TargetName = "role", "customer_admin", "Customer admin"
			case targetAPIKey:
				ch.TargetType, ch.TargetID, ch.TargetName = "api_key", "key_"+strconv.FormatUint(rng.Uint64()>>16, 36), "Automation"
			case targetSubAccount:
				ch.TargetType, ch.TargetID, ch.TargetName = "sub_account", strconv.FormatInt(int64(c.org.ID), 10)+"-"+strconv.Itoa(rng.IntN(9)+1), c.org.Name+" Branch"
			}
			switch spec.action {
			case canopy.ActionAddUser, canopy.ActionInviteSent, canopy.ActionInviteAccepted:
				ch.After = jsonObject("email", email, "first_name", given, "last_name", family, "status", "active")
			case canopy.ActionRemoveUser, canopy.ActionInviteRevoked:
				ch.Before = jsonObject("email", email, "first_name", given, "last_name", family)
			case canopy.ActionUpdateUser:
				ch.Before, ch.After = jsonObject("last_name", family), jsonObject("last_name", p.familyNames[rng.IntN(len(p.familyNames))])
			case canopy.ActionEmailChanged:
				ch.Before, ch.After = jsonObject("email", "old."+email), jsonObject("email", email)
			case canopy.ActionDeactivateUser:
				ch.Before, ch.After = statusActive, statusDeactivated
			case canopy.ActionReactivateUser:
				ch.Before, ch.After = statusDeactivated, statusActive
			case canopy.ActionReset2FA:
				ch.Before, ch.After = twoStepOn, twoStepReset
			case canopy.ActionAddGroupMember:
				ch.After = jsonObject("end_user_id", c.firstUser+user, "email", email)
			case canopy.ActionRemoveGroupMember:
				ch.Before = jsonObject("end_user_id", c.firstUser+user, "email", email)
			case canopy.ActionAddUserGroup:
				ch.After = jsonObject("name", ch.TargetName)
			case canopy.ActionRemoveUserGroup:
				ch.Before = jsonObject("name", ch.TargetName)
			case canopy.ActionChangeStatus:
				ch.Before, ch.After = statusTrial, statusActive
			case canopy.ActionUpdateCustomer, canopy.ActionUpdateSettings, canopy.ActionUpdateDefaults:
				ch.Before, ch.After = timeoutBefore, timeoutAfter
			case canopy.ActionDirectorySyncRun:
				ch.After = jsonObject("added", rng.IntN(5), "updated", rng.IntN(20), "removed", rng.IntN(3))
			}
		case r < 99 || len(p.customers) == 0:
			m := p.msps[byMSP.draw(rng.Int64N(byMSP[len(byMSP)-1]))]
			spec = mspMix[mspPick[rng.IntN(len(mspPick))]]
			ch.OrgID, ch.OrgPath = m.org.ID, m.org.Path
			if spec.system {
				ch.Actor = trialJob
			} else {
				ch.Actor = staffActor(pickStaff(m))
			}
			switch spec.target {
			case targetCustomer:
				if m.custHi > m.custLo {
					c := p.customers[m.custLo+rng.IntN(m.custHi-m.custLo)]
					ch.TargetType, ch.TargetID, ch.TargetName = "customer", c.org.TenantID, c.org.Name
				} else {
					ch.TargetType, ch.TargetID, ch.TargetName = "organization", m.org.TenantID, m.org.Name
				}
			case targetStaff:
				s := pickStaff(m)
				ch.TargetType, ch.TargetID, ch.TargetName = "person", strconv.FormatInt(int64(s.id), 10), s.email
			case targetSelf:
				ch.TargetType, ch.TargetID, ch.TargetName = "person", strconv.FormatInt(int64(ch.Actor.PersonID), 10), ch.Actor.Name
				ch.Actor.UserAgent = agents[rng.IntN(len(agents))]
			case targetRole:
				ch.TargetType, ch.TargetID, ch.TargetName = "role_group", "technicians", "Technicians"
			default:
				ch.TargetType, ch.TargetID, ch.TargetName = "organization", m.org.TenantID, m.org.Name
			}
			switch spec.action {
			case canopy.ActionCreateCustomer, canopy.ActionAddClient, canopy.ActionAddCompany:
				ch.After = jsonObject("name", ch.TargetName, "status", "trial")
			case canopy.ActionDeleteCustomer, canopy.ActionRemoveClient, canopy.ActionRemoveCompany:
				ch.Before = jsonObject("name", ch.TargetName)
			case canopy.ActionExpireTrial:
				ch.Before, ch.After = statusTrial, statusExpired
			case canopy.ActionUpdateSettings, canopy.ActionUpdateOrg:
				ch.Before, ch.After = timeoutBefore, timeoutAfter
			}
		default:
			d := p.distributor
			spec = distributorMix[distributorPick[rng.IntN(len(distributorPick))]]
			ch.OrgID, ch.OrgPath = d.org.ID, d.org.Path
			ch.Actor = staffActor(pickStaff(d))
			switch spec.target {
			case targetStaff:
				s := pickStaff(d)
				ch.TargetType, ch.TargetID, ch.TargetName = "person", strconv.FormatInt(int64(s.id), 10), s.email
			case targetSelf:
				ch.TargetType, ch.TargetID, ch.TargetName = "person", strconv.FormatInt(int64(ch.Actor.PersonID), 10), ch.Actor.Name
				ch.Actor.UserAgent = agents[rng.IntN(len(agents))]
			default:
				m := p.msps[rng.IntN(len(p.msps))]
				ch.TargetType, ch.TargetID, ch.TargetName = "organization", m.org.TenantID, m.org.Name
			}
			switch spec.action {
			case canopy.ActionCreateOrg:
				ch.After = jsonObject("name", ch.TargetName, "kind", "msp")
			case canopy.ActionDeleteOrg, canopy.ActionRemoveCompanyGrp:
				ch.Before = jsonObject("name", ch.TargetName)
			case canopy.ActionUpdateOrg, canopy.ActionUpdateSettings:
				ch.Before, ch.After = timeoutBefore, timeoutAfter
			}
		}
		ch.Action = spec.action
		if err := st.add(ch); err != nil {
			return err
		}
	}
	return st.flush()
}
