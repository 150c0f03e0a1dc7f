package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/google/uuid"
)

// shape is the target counts of a dataset (PERFORMANCE.md, "Datasets").
type shape struct {
	msps, customers  int
	distributorStaff int // people with a membership at the distributor
	mspStaff         int // people with a membership at each MSP
	endUsers         int64
	// Per-customer end users follow a log-normal law with this median and
	// sigma, capped; giants are extra customers of a fixed size.
	userMedian, userSigma float64
	userCap               int64
	giants                int
	giantUsers            int64
	groups, groupMembers  int64
	changes               int64
}

func shapeOf(size Size) (shape, error) {
	// Median 25 and sigma 1.634 give a mean of ≈95 users and a p99 of
	// ≈1,170 before the cap: the L dataset's "median 25, p99 ≈ 1,200".
	const median, sigma = 25, 1.634
	switch size {
	case SizeXS:
		return shape{msps: 3, customers: 30, distributorStaff: 2, mspStaff: 2, endUsers: 1_000,
			userMedian: median, userSigma: sigma, userCap: 2_500, giants: 1, giantUsers: 200,
			groups: 150, groupMembers: 3_000, changes: 3_000}, nil
	case SizeS:
		return shape{msps: 20, customers: 2_000, distributorStaff: 20, mspStaff: 10, endUsers: 200_000,
			userMedian: median, userSigma: sigma, userCap: 2_500,
			groups: 10_000, groupMembers: 600_000, changes: 5_000_000}, nil
	case SizeL:
		return shape{msps: 200, customers: 20_000, distributorStaff: 20, mspStaff: 10, endUsers: 2_000_000,
			userMedian: median, userSigma: sigma, userCap: 2_500, giants: 4, giantUsers: 25_000,
			groups: 100_000, groupMembers: 6_000_000, changes: 10_000_000}, nil
	}
	return shape{}, fmt.Errorf("unknown dataset size %q (want XS, S or L): %w", size, canopy.ErrInvalid)
}

// plan is the whole dataset decided up front — tree, sizes and ID ranges —
// so that rows can be produced table by table in one pass each, and every
// table can refer to IDs of another without reading them back.
type plan struct {
	shape       shape
	seed        uint64
	now         time.Time
	platform    canopy.Org
	distributor orgPlan
	msps        []orgPlan
	customers   []customerPlan
	staff       []staffPlan
	firstUser   int64
	firstGroup  int64
	firstChange canopy.ChangeID

	givenNames, familyNames []string
	givenLower, familyLower []string
}

// orgPlan is the distributor or an MSP.
type orgPlan struct {
	org    canopy.Org
	domain string
	// staff is the range [staffLo, staffHi) of plan.staff.
	staffLo, staffHi int
	// customers is the range [custLo, custHi) of plan.customers (MSPs only).
	custLo, custHi int
}

type customerPlan struct {
	org        canopy.Org // customer attributes included; ActiveUsers is counted while users are produced
	msp        int        // index into plan.msps
	source     string     // directory the users come from: manual, entra, google or scim
	users      int64
	firstUser  int64
	groups     int64
	firstGroup int64
	members    int64 // group memberships over all its groups
	nameSalt   int   // scrambles the order of people names
	groupSalt  int   // where its group names start in the list
}

type staffPlan struct {
	id      canopy.PersonID
	name    string
	email   string
	org     canopy.Org
	roles   []string
	created time.Time
}

// Phases draw from their own random streams, so that how one table is
// produced (or batched) never changes another's rows.
const (
	phasePlan uint64 = iota + 1
	phaseUsers
	phaseGroups
	phaseMembers
	phaseChanges
)

func (p *plan) rng(phase uint64) *rand.Rand { return rand.New(rand.NewPCG(p.seed, phase)) }

// nameSpace is the number of distinct (given, family) pairs; nameStride is
// coprime with it, so i → (i·stride + salt) mod nameSpace is a permutation
// and the first nameSpace people of an organization have distinct names.
const (
	nameSpace  = 100 * 100
	nameStride = 7919
)

// personName returns the i-th person of an organization: distinct names,
// then numbered ones, all with distinct email local parts.
func (p *plan) personName(salt, i int) (given, family, local string) {
	j := (i*nameStride + salt) % nameSpace
	g, f := j%len(p.givenNames), j/len(p.givenNames)
	local = p.givenLower[g] + "." + p.familyLower[f]
	if round := i / nameSpace; round > 0 {
		local += strconv.Itoa(round + 1)
	}
	return p.givenNames[g], p.familyNames[f], local
}

// newUUID draws a version-4 UUID from rng, so tenant IDs are deterministic.
func newUUID(rng *rand.Rand) string {
	var u uuid.UUID
	for i := 0; i < 16; i += 8 {
		v := rng.Uint64()
		for k := range 8 {
			u[i+k] = byte(v >> (8 * k))
		}
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}

// slug turns "Blue Yonder" into "blue-yonder".
func slug(s string) string {
	return strings.ReplaceAll(strings.ToLower(s), " ", "-")
}

// ids are the first free IDs of each table when the load began.
type ids struct {
	org    canopy.OrgID
	person canopy.PersonID
	user   int64
	group  int64
	change canopy.ChangeID
}

const day = 24 * time.Hour

// newPlan decides the dataset. Numbers in names and domains are the org IDs,
// so a second dataset in the same database gets names of its own.
func newPlan(sh shape, seed uint64, now time.Time, platform canopy.Org, next ids) (*plan, error) {
	p := &plan{shape: sh, seed: seed, now: now, platform: platform,
		firstUser: next.user, firstGroup: next.group, firstChange: next.change,
		givenNames: genGivenNames(), familyNames: genFamilyNames()}
	for _, n := range p.givenNames {
		p.givenLower = append(p.givenLower, strings.ToLower(n))
	}
	for _, n := range p.familyNames {
		p.familyLower = append(p.familyLower, strings.ToLower(n))
	}
	rng := p.rng(phasePlan)
	between := func(lo, hi time.Time) time.Time {
		if !hi.After(lo) {
			return lo
		}
		return lo.Add(time.Duration(rng.Int64N(int64(hi.Sub(lo))))).Truncate(time.Millisecond)
	}

	// Customers per MSP: Zipf–Mandelbrot weights (k+1.2)^-1.02 put ≈2,000
	// of L's 20,000 customers at the largest MSP and ≈40 at the median one.
	mspWeights := make([]float64, sh.msps)
	for k := range mspWeights {
		mspWeights[k] = math.Pow(float64(k+1)+1.2, -1.02)
	}
	rng.Shuffle(len(mspWeights), func(i, j int) { mspWeights[i], mspWeights[j] = mspWeights[j], mspWeights[i] })
	perMSP, err := apportionMin(int64(sh.customers), mspWeights, 1, math.MaxInt64)
	if err != nil {
		return nil, fmt.Errorf("customers per MSP: %w", err)
	}

	// End users per customer: log-normal draws scaled to the total, plus
	// the giants at random places.
	giant := make([]bool, sh.customers)
	for _, i := range rng.Perm(sh.customers)[:sh.giants] {
		giant[i] = true
	}
	userWeights := make([]float64, sh.customers)
	for i := range userWeights {
		if !giant[i] {
			userWeights[i] = min(float64(sh.userCap), sh.userMedian*math.Exp(sh.userSigma*rng.NormFloat64()))
		}
	}
	userCaps := make([]int64, sh.customers)
	userMins := make([]int64, sh.customers)
	for i := range userCaps {
		userCaps[i], userMins[i] = sh.userCap, 1
		if giant[i] {
			userCaps[i], userMins[i] = sh.giantUsers, sh.giantUsers
		}
	}
	users, err := apportionRange(sh.endUsers, userWeights, userMins, userCaps)
	if err != nil {
		return nil, fmt.Errorf("end users per customer: %w", err)
	}

	// Groups grow sub-linearly with a customer's size; memberships (≈3 per
	// user) in proportion to it, bounded by groups × users.
	groupWeights := make([]float64, sh.customers)
	groupCaps := make([]int64, sh.customers)
	for i, u := range users {
		groupWeights[i], groupCaps[i] = math.Pow(float64(u), 0.8), u
	}
	groups, err := apportionMin(sh.groups, groupWeights, 1, groupCaps...)
	if err != nil {
		return nil, fmt.Errorf("groups per customer: %w", err)
	}
	memberWeights := make([]float64, sh.customers)
	memberCaps := make([]int64, sh.customers)
	for i, u := range users {
		memberWeights[i], memberCaps[i] = float64(u), u*groups[i]
	}
	members, err := apportion(sh.groupMembers, memberWeights, memberCaps)
	if err != nil {
		return nil, fmt.Errorf("group memberships per customer: %w", err)
	}

	// The tree: distributor, MSPs, then customers grouped by MSP, so that
	// IDs follow tree order.
	nextOrg := next.org
	newOrg := func(kind canopy.OrgKind, parent canopy.Org, name string, created time.Time) canopy.Org {
		o := canopy.Org{ID: nextOrg, TenantID: newUUID(rng), Kind: kind, ParentID: parent.ID,
			Path: canopy.OrgPath(parent.Path, nextOrg), Depth: parent.Depth + 1, Created: created}
		o.Name = strings.ReplaceAll(name, "#", fmt.Sprintf("%04d", nextOrg))
		nextOrg++
		return o
	}
	founded := now.AddDate(-5, 0, 0).Truncate(day)
	dist := newOrg(canopy.KindDistributor, platform, "Evergreen Distribution #", founded)
	p.distributor = orgPlan{org: dist, domain: fmt.Sprintf("evergreen-%04d.example", dist.ID)}
	mspWords, mspKinds := genMSPWords(), genMSPKinds()
	for range sh.msps {
		word, kind := mspWords[rng.IntN(len(mspWords))], mspKinds[rng.IntN(len(mspKinds))]
		o := newOrg(canopy.KindMSP, dist, word+" "+kind+" #", between(founded, now.AddDate(-3, 0, 0)))
		p.msps = append(p.msps, orgPlan{org: o, domain: fmt.Sprintf("%s-%04d.example", slug(word), o.ID)})
	}
	companyWords, companyKinds, groupNames := genCompanyWords(), genCompanyKinds(), genGroupNames()
	sources := []string{"manual", "manual", "manual", "manual", "manual", "manual", "entra", "entra", "google", "scim"}
	ci := 0
	for m := range p.msps {
		msp := &p.msps[m]
		msp.custLo = len(p.customers)
		for range perMSP[m] {
			word := companyWords[rng.IntN(len(companyWords))]
			o := newOrg(canopy.KindCustomer, msp.org, word+" "+companyKinds[rng.IntN(len(companyKinds))]+" #", time.Time{})
			o.Domain = fmt.Sprintf("%s-%04d.example", slug(word), o.ID)
			switch r := rng.IntN(100); {
			case giant[ci] || r < 80:
				o.Status = canopy.StatusActive
			case r < 92:
				o.Status = canopy.StatusTrial
				o.TrialEndsAt = now.Add(time.Duration(1+rng.IntN(30)) * day).Truncate(time.Hour)
			case r < 98:
				o.Status = canopy.StatusTrialExpired
				o.TrialEndsAt = now.Add(-time.Duration(1+rng.IntN(90)) * day).Truncate(time.Hour)
			default:
				o.Status = canopy.StatusSuspended
			}
			if o.TrialEndsAt.IsZero() {
				o.Created = between(now.AddDate(-3, 0, 0), now.Add(-30*day))
			} else {
				o.Created = o.TrialEndsAt.Add(-30 * day)
			}
			p.customers = append(p.customers, customerPlan{org: o, msp: m,
				source: sources[rng.IntN(len(sources))], users: users[ci], groups: groups[ci], members: members[ci],
				nameSalt: rng.IntN(nameSpace), groupSalt: rng.IntN(len(groupNames))})
			ci++
		}
		msp.custHi = len(p.customers)
	}
	nextUser, nextGroup := next.user, next.group
	for i := range p.customers {
		c := &p.customers[i]
		c.firstUser, c.firstGroup = nextUser, nextGroup
		nextUser += c.users
		nextGroup += c.groups
	}

	// Staff: a team at the distributor and at every MSP, first the admins.
	nextPerson := next.person
	addStaff := func(o *orgPlan, n int, roles [][]string) {
		o.staffLo = len(p.staff)
		salt := rng.IntN(nameSpace)
		for i := range n {
			given, family, local := p.personName(salt, i)
			p.staff = append(p.staff, staffPlan{id: nextPerson, name: given + " " + family, email: local + "@" + o.domain,
				org: o.org, roles: roles[min(i, len(roles)-1)], created: between(o.org.Created, now.Add(-day))})
			nextPerson++
		}
		o.staffHi = len(p.staff)
	}
	addStaff(&p.distributor, sh.distributorStaff, [][]string{{"distributor_admin"}, {"distributor_admin"},
		{"distributor_sales"}, {"distributor_sales", "distributor_support"}, {"distributor_support"}})
	for m := range p.msps {
		addStaff(&p.msps[m], sh.mspStaff, [][]string{{"msp_admin"}, {"msp_admin", "msp_accounts"},
			{"msp_accounts"}, {"msp_technician"}})
	}
	return p, nil
}

// apportion splits total into integer parts proportional to weights, no
// part above its cap, summing to exactly total (largest remainders get the
// units left after rounding down).
func apportion(total int64, weights []float64, caps []int64) ([]int64, error) {
	n := len(weights)
	out := make([]int64, n)
	var room int64
	for _, c := range caps {
		// Saturate: "no cap" is passed as math.MaxInt64.
		room = min(room, math.MaxInt64/2) + min(c, math.MaxInt64/2)
	}
	if total > room {
		return nil, fmt.Errorf("%d does not fit in parts whose caps sum to %d", total, room)
	}
	fixed := make([]bool, n)
	remaining := total
	for {
		var sum float64
		for i, w := range weights {
			if !fixed[i] {
				sum += w
			}
		}
		if sum <= 0 {
			break
		}
		capped := false
		for i, w := range weights {
			if !fixed[i] && float64(remaining)*w/sum >= float64(caps[i]) {
				out[i], fixed[i], capped = caps[i], true, true
				remaining -= caps[i]
			}
		}
		if !capped {
			break
		}
	}
	var sum float64
	for i, w := range weights {
		if !fixed[i] {
			sum += w
		}
	}
	type part struct {
		i    int
		frac float64
	}
	var parts []part
	left := remaining
	for i, w := range weights {
		if fixed[i] || sum <= 0 {
			continue
		}
		share := float64(remaining) * w / sum
		whole := min(int64(share), caps[i])
		out[i] = whole
		left -= whole
		parts = append(parts, part{i, share - float64(whole)})
	}
	slices.SortStableFunc(parts, func(a, b part) int {
		switch {
		case a.frac > b.frac:
			return -1
		case a.frac < b.frac:
			return 1
		}
		return a.i - b.i
	})
	// Hand out what rounding left: first by largest remainder, then to
	// anything with room (zero weights included) so the total is exact.
	for left > 0 {
		given := false
		for _, pt := range parts {
			if left == 0 {
				break
			}
			if out[pt.i] < caps[pt.i] {
				out[pt.i]++
				left--
				given = true
			}
		}
		if !given {
			for i := range out {
				if left == 0 {
					break
				}
				if add := min(caps[i]-out[i], left); add > 0 {
					out[i] += add
					left -= add
				}
			}
			if left > 0 {
				return nil, fmt.Errorf("could not place %d of %d", left, total)
			}
		}
	}
	return out, nil
}

// apportionRange is apportion with a minimum and a cap per part.
func apportionRange(total int64, weights []float64, mins, caps []int64) ([]int64, error) {
	var floor int64
	room := make([]int64, len(caps))
	for i := range caps {
		floor += mins[i]
		room[i] = caps[i] - mins[i]
	}
	if total < floor {
		return nil, fmt.Errorf("%d is less than the minimum %d", total, floor)
	}
	out, err := apportion(total-floor, weights, room)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i] += mins[i]
	}
	return out, nil
}

// apportionMin is apportionRange with the same minimum for every part and
// either one cap for all (a single value) or one per part.
func apportionMin(total int64, weights []float64, minimum int64, caps ...int64) ([]int64, error) {
	mins := make([]int64, len(weights))
	all := make([]int64, len(weights))
	for i := range weights {
		mins[i] = minimum
		if len(caps) == len(weights) {
			all[i] = caps[i]
		} else {
			all[i] = caps[0]
		}
	}
	return apportionRange(total, weights, mins, all)
}
