package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/canopy-channel/canopy/internal/canopy"
)

// End-user search (PERFORMANCE.md W5) has two modes.
//
// Prefix: the email, the full name ("first last") or the last name starts
// with the query, case-insensitively. Results come by (email, id). The
// matches are gathered from B-tree ranges (migration 0011) — of one
// customer, of an MSP's customers, or of the whole table — and sorted; when
// there are too many to sort (searchCap, counted first), the page is read
// instead by walking the email order and testing each row, which then finds
// its rows quickly because matches are dense.
//
// Contains: the query (at least three characters) appears anywhere in the
// email or the full name. Results come by id, the order users were added:
// the trigram index yields matches in id order, so a page costs the matches
// read until it is full, not all of them. For a customer or an MSP the
// index is bounded to the span of the scope's user IDs. A scope of at most
// searchSmallScope users is read whole instead. SQLite answers through the
// FTS5 table end_user_search, PostgreSQL through pg_trgm GIN indexes under
// LIKE '%q%'.
//
// Every statement is bounded by the scope's path range as well, whatever
// else narrows it.

// EndUserSearch asks for end users matching Query.
type EndUserSearch struct {
	// Query is trimmed and lower-cased; empty matches everyone (prefix).
	Query string
	// Contains searches anywhere in email and name; a query shorter than
	// MinContains characters is searched as a prefix.
	Contains bool
	// Customer narrows the search to one customer (which must lie in the
	// scope); zero searches every customer of the scope.
	Customer canopy.OrgID
	// Keyset cursor: the last row shown. Prefix pages after (AfterEmail,
	// AfterID), contains pages after AfterID.
	AfterEmail string
	AfterID    int64
	Limit      int
}

// MinContains is the shortest query a contains search takes: trigram
// indexes cannot answer fewer characters.
const MinContains = 3

// searchCap bounds the matches a prefix search gathers and sorts; past it
// the search walks the email order (see above). One customer's search
// walks past a fifth of it.
const searchCap = 2_000

// searchSmallScope is the number of users under which a contains search
// reads the scope's users rather than the trigram index: reading 10,000
// rows costs about what skipping the matches of other tenants does when
// the scope is a 200th of the table.
const searchSmallScope = 10_000

// SearchMode reports how a query is searched: contains only when asked and
// long enough.
func (q EndUserSearch) SearchMode() (contains bool) {
	return q.Contains && utf8.RuneCountInString(normalizeQuery(q.Query)) >= MinContains
}

// normalizeQuery is the form every engine compares: trimmed, valid UTF-8
// without NULs, lower-cased.
func normalizeQuery(q string) string {
	q = strings.ToValidUTF8(strings.ReplaceAll(q, "\x00", ""), "")
	return strings.ToLower(strings.TrimSpace(q))
}

// sqliteSearchRebuild refills the FTS5 table end_user_search from
// end_users, for a bulk load that ran without the triggers of migration
// 0011 (it ran on an empty table, so the index was empty as well).
func sqliteSearchRebuild() []string {
	return []string{
		`INSERT INTO end_user_search(end_user_search) VALUES ('delete-all')`,
		`INSERT INTO end_user_search(rowid, email, name) SELECT id, email, first_name || ' ' || last_name FROM end_users`,
		`INSERT INTO end_user_search(end_user_search) VALUES ('optimize')`,
	}
}

// Statement is one SQL statement with its arguments.
type Statement struct {
	Query string
	Args  []any
}

// SearchEndUsers returns a page of the end users of scope (or of one
// customer in it) matching q.
func (s *Store) SearchEndUsers(ctx context.Context, scope canopy.Scope, q EndUserSearch) ([]EndUser, error) {
	if s.dialect != Postgres {
		page, err := s.planSearch(ctx, s.r, scope, q, nil)
		if err != nil {
			return nil, err
		}
		return queryEndUsers(ctx, s.r, page)
	}
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("search end users: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, PostgresSearchSettings); err != nil {
		return nil, fmt.Errorf("search end users: %w", err)
	}
	page, err := s.planSearch(ctx, tx, scope, q, nil)
	if err != nil {
		return nil, err
	}
	users, err := queryEndUsers(ctx, tx, page)
	if err != nil {
		return nil, err
	}
	return users, tx.Commit()
}

// PostgresSearchSettings is run first in the read-only transaction of a
// PostgreSQL search: no parallel workers and no JIT for its statements.
// Each is a few milliseconds of index reads, but the counts and walks are
// costed as if they read their whole ranges: PostgreSQL planned them
// parallel (the MSP count of a common prefix took 21 ms, 3 ms of it work,
// the rest starting and waiting for workers on a busy 2-core machine) or
// JIT-compiled them (150–300 ms).
const PostgresSearchSettings = `SELECT set_config('max_parallel_workers_per_gather', '0', true), set_config('jit', 'off', true)`

// EndUserSearchStatements returns the statements SearchEndUsers runs for
// scope and q — the planning reads first, the page last — so that
// benchmarks can run the same SQL bare beside the store.
func (s *Store) EndUserSearchStatements(ctx context.Context, scope canopy.Scope, q EndUserSearch) ([]Statement, error) {
	var ran []Statement
	page, err := s.planSearch(ctx, s.r, scope, q, &ran)
	if err != nil {
		return nil, err
	}
	return append(ran, page), nil
}

// planned marks a statement, on PostgreSQL, to be planned for its own
// arguments each time it runs (an unnamed statement; pgx still caches its
// description). The driver otherwise prepares it, and after five runs
// PostgreSQL may keep one generic plan for every argument: for a prefix or
// a scope it cannot see, that plan read hundreds of thousands of rows (a
// page of 0.1–3 s where the custom plan takes milliseconds).
func (s *Store) planned(st Statement) Statement {
	if s.dialect == Postgres {
		st.Args = append([]any{pgx.QueryExecModeCacheDescribe}, st.Args...)
	}
	return st
}

func queryEndUsers(ctx context.Context, db querier, st Statement) ([]EndUser, error) {
	rows, err := db.QueryContext(ctx, st.Query, st.Args...)
	if err != nil {
		return nil, fmt.Errorf("search end users: %w", err)
	}
	defer rows.Close()
	var out []EndUser
	for rows.Next() {
		u, err := scanEndUser(rows)
		if err != nil {
			return nil, fmt.Errorf("search end users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// searchSQL builds the statements of one search; args collects the
// arguments as they are named.
type searchSQL struct {
	dialect Dialect
	args    []any
}

func (b *searchSQL) arg(v any) string {
	b.args = append(b.args, v)
	return fmt.Sprintf("$%d", len(b.args))
}

// key is the comparison form of an expression: byte order on both engines
// (SQLite's BINARY collation is already byte order).
func (b *searchSQL) key(expr string) string {
	if b.dialect == Postgres {
		return "(" + expr + ` COLLATE "C")`
	}
	return expr
}

// indexedBy pins SQLite's walk to the index whose order it pages in: the
// whole table's email index, or a customer's (customer_id, email) one,
// which needs no pin. Without it SQLite gathered every user of the scope
// through another index and sorted them (seconds at distributor scope).
// PostgreSQL picks the index itself.
func (b *searchSQL) indexedBy(customer canopy.OrgID, index string) string {
	if b.dialect != SQLite || customer != 0 {
		return ""
	}
	return " INDEXED BY " + index
}

func (b *searchSQL) email(t string) string { return b.key(t + ".email") }
func (b *searchSQL) name(t string) string {
	return b.key("lower(" + t + ".first_name || ' ' || " + t + ".last_name)")
}
func (b *searchSQL) last(t string) string { return b.key("lower(" + t + ".last_name)") }

// prefixRange is "expr starts with q" as an index range. No string that
// starts with q sorts at or past q followed by the largest code point.
func prefixRange(expr, lo, hi string) string {
	return expr + ` >= ` + lo + ` AND ` + expr + ` < ` + hi
}

// planSearch decides how to answer q and returns the page statement; the
// reads it needs to decide are appended to ran when it is not nil.
func (s *Store) planSearch(ctx context.Context, db querier, scope canopy.Scope, q EndUserSearch, ran *[]Statement) (Statement, error) {
	text := normalizeQuery(q.Query)
	limit := q.Limit
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	customer := q.Customer
	if customer == 0 && scope.Valid() && len(canopy.PathIDs(scope.Path)) >= 4 {
		customer = scope.Root // a customer's own scope
	}
	msp := canopy.OrgID(0)
	if customer == 0 && scope.Valid() && canopy.MSPOfPath(scope.Path) == scope.Root {
		msp = scope.Root
	}
	read := func(st Statement) (int64, error) {
		if ran != nil {
			*ran = append(*ran, st)
		}
		var n int64
		if err := db.QueryRowContext(ctx, st.Query, st.Args...).Scan(&n); err != nil {
			return 0, fmt.Errorf("search end users: %w", err)
		}
		return n, nil
	}
	if q.SearchMode() {
		// A customer's or an MSP's users: how many, and the span of their
		// IDs. Users join a customer mostly together (an import, a
		// directory sync), so a tenant's IDs cluster; bounding the trigram
		// index to that span skips the matches of the tenants added before
		// and after it (without the bound, an MSP whose users came late read
		// every earlier match: 1–2 s on L).
		users, lo, hi := s.searchSmall+1, int64(0), int64(0) // distributor and platform: large, unbounded
		var st Statement
		switch {
		case customer != 0:
			st = Statement{`SELECT c.active_users,
				COALESCE((SELECT MIN(e.id) FROM end_users e WHERE e.customer_id = c.org_id), 0),
				COALESCE((SELECT MAX(e.id) FROM end_users e WHERE e.customer_id = c.org_id), 0)
				FROM customers c WHERE c.org_id = $1`, []any{int64(customer)}}
		case msp != 0:
			st = Statement{`SELECT COALESCE(SUM(c.active_users), 0),
				COALESCE(MIN((SELECT MIN(e.id) FROM end_users e WHERE e.customer_id = c.org_id)), 0),
				COALESCE(MAX((SELECT MAX(e.id) FROM end_users e WHERE e.customer_id = c.org_id)), 0)
				FROM customers c WHERE c.msp_id = $1`, []any{int64(msp)}}
		}
		if st.Query != "" {
			st = s.planned(st)
			if ran != nil {
				*ran = append(*ran, st)
			}
			err := db.QueryRowContext(ctx, st.Query, st.Args...).Scan(&users, &lo, &hi)
			if errors.Is(err, sql.ErrNoRows) {
				users, lo, hi, err = 0, 0, -1, nil // no such customer: nothing to find
			}
			if err != nil {
				return Statement{}, fmt.Errorf("search end users: %w", err)
			}
		}
		return s.planned(s.containsSQL(scope, customer, msp, text, users <= s.searchSmall, q.AfterID, lo, hi, limit)), nil
	}
	// One customer walks its own (customer_id, email) index, whose rows
	// all count: its walk is cheap sooner than the whole table's.
	gatherCap := s.searchCap
	if customer != 0 {
		gatherCap = max(1, gatherCap/5)
	}
	count := func(source canopy.OrgID) (bool, error) {
		n, err := read(s.planned(s.prefixSQL(scope, customer, source, nil, text, "", 0, int(gatherCap), prefixCount)))
		return n < gatherCap, err
	}
	if msp != 0 {
		// A rare prefix is cheapest found in the whole table's ranges and
		// then bounded to the MSP; a common one through the MSP's customers
		// (one range each), which counts only the MSP's matches.
		few, err := count(0)
		if err != nil || few {
			return s.planned(s.prefixSQL(scope, customer, 0, nil, text, q.AfterEmail, q.AfterID, limit, prefixGather)), err
		}
	}
	few, err := count(msp)
	if err != nil {
		return Statement{}, err
	}
	how := prefixWalk
	if few {
		how = prefixGather
	}
	var set []int64
	if how == prefixWalk && msp != 0 && s.dialect == Postgres {
		if set, err = s.mspCustomerIDs(ctx, db, msp, ran); err != nil {
			return Statement{}, err
		}
	}
	return s.planned(s.prefixSQL(scope, customer, msp, set, text, q.AfterEmail, q.AfterID, limit, how)), nil
}

// mspCustomerIDs lists the customers of an MSP (msp is the scope's root:
// its customers lie in the scope).
func (s *Store) mspCustomerIDs(ctx context.Context, db querier, msp canopy.OrgID, ran *[]Statement) ([]int64, error) {
	st := s.planned(Statement{`SELECT c.org_id FROM customers c WHERE c.msp_id = $1`, []any{int64(msp)}})
	if ran != nil {
		*ran = append(*ran, st)
	}
	rows, err := db.QueryContext(ctx, st.Query, st.Args...)
	if err != nil {
		return nil, fmt.Errorf("search end users: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("search end users: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search end users: %w", err)
	}
	return ids, nil
}

// How a prefix statement finds its rows.
type prefixHow int

const (
	prefixCount  prefixHow = iota // count the candidates, up to limit
	prefixGather                  // gather the candidates from index ranges, sort them
	prefixWalk                    // walk the email order, test every row
)

// prefixCandidates is the union of index ranges whose IDs are the prefix
// matches: one range per key, of one customer, of an MSP's customers (the
// covering customers_msp_users index, then each customer's range) or of
// the whole table. The statements using them bound the rows by the scope's
// path. An empty query takes every user by email alone.
func (b *searchSQL) prefixCandidates(customer, msp canopy.OrgID, text string) (string, int) {
	qlo, qhi := b.arg(text), b.arg(text+"\U0010FFFF")
	keys := []func(string) string{b.email, b.name, b.last}
	if text == "" {
		keys = keys[:1]
	}
	var branches []string
	for _, key := range keys {
		r := prefixRange(key("e"), qlo, qhi)
		switch {
		case customer != 0:
			branches = append(branches, `SELECT e.id FROM end_users e WHERE e.customer_id = `+b.arg(int64(customer))+` AND `+r)
		case msp != 0:
			branches = append(branches, `SELECT e.id FROM customers c JOIN end_users e ON e.customer_id = c.org_id WHERE c.msp_id = `+b.arg(int64(msp))+` AND `+r)
		default:
			branches = append(branches, `SELECT e.id FROM end_users e WHERE `+r)
		}
	}
	return strings.Join(branches, " UNION ALL "), len(keys)
}

// prefixSQL builds a prefix-search statement.
//
// set is, for PostgreSQL's walk at MSP scope, the IDs of the MSP's
// customers (see below).
func (s *Store) prefixSQL(scope canopy.Scope, customer, msp canopy.OrgID, set []int64, text, afterEmail string, afterID int64, limit int, how prefixHow) Statement {
	b := &searchSQL{dialect: s.dialect}
	lo, hi := scope.Bounds()
	if how == prefixCount {
		// Counted up to the cap only: past it the count does not matter.
		candidates, _ := b.prefixCandidates(customer, msp, text)
		return Statement{Query: `SELECT COUNT(*) FROM (SELECT 1 FROM (` + candidates + `) x LIMIT ` + b.arg(int64(limit)) + `) y`, Args: b.args}
	}
	plo, phi := b.arg(lo), b.arg(hi)
	where := []string{`o.path >= ` + plo, `o.path < ` + phi}
	// The gathered IDs lead (the candidates carry the customer); the walk
	// reads end_users in email order first and its organization second.
	from := `end_users u JOIN orgs o ON o.id = u.customer_id`
	if how == prefixGather {
		candidates, _ := b.prefixCandidates(customer, msp, text)
		where = append(where, `u.id IN (`+candidates+`)`)
	} else {
		if s.dialect == SQLite {
			// Each walked row's organization is one primary-key read: as a
			// join, SQLite first built a Bloom filter over every
			// organization in the scope (4 ms at distributor scope, for a
			// 50-row page). PostgreSQL keeps the join: the subquery form
			// made its cost estimate large enough to JIT-compile every
			// execution (150–300 ms).
			from = `end_users u` + b.indexedBy(customer, "end_users_email")
			// BETWEEN reads the organization once; no path equals the upper
			// bound (paths end in "/", the bound in "0").
			where = []string{`(SELECT o.path FROM orgs o WHERE o.id = u.customer_id) BETWEEN ` + plo + ` AND ` + phi}
		}
		if msp != 0 && s.dialect == SQLite {
			// An MSP's customers, looked up once: most walked rows belong
			// to other MSPs, and each is then rejected without a read.
			// (PostgreSQL turned the same IN into a semi-join from the
			// customers, reading and sorting all 180,000 users of the
			// largest MSP: 180–360 ms.)
			where = append([]string{`u.customer_id IN (SELECT c.org_id FROM customers c WHERE c.msp_id = ` + b.arg(int64(msp)) + `)`}, where...)
		}
		if customer != 0 {
			where = append(where, `u.customer_id = `+b.arg(int64(customer)))
		}
	}
	if how == prefixWalk && text != "" {
		// The walk tests each row; substr keeps the planner from turning
		// the test back into index ranges to gather and sort.
		n, q := b.arg(int64(utf8.RuneCountInString(text))), b.arg(text)
		var tests []string
		for _, key := range []func(string) string{b.email, b.name, b.last} {
			tests = append(tests, `substr(`+key("u")+`, 1, `+n+`) = `+q)
		}
		where = append(where, `(`+strings.Join(tests, " OR ")+`)`)
	}
	if afterEmail != "" || afterID != 0 {
		// Bounded on the email alone, then the tie already shown dropped:
		// an OR of the two would not bound the range on SQLite.
		ae, ai := b.arg(afterEmail), b.arg(afterID)
		where = append(where, b.email("u")+` >= `+ae, `NOT (`+b.email("u")+` = `+ae+` AND u.id <= `+ai+`)`)
	}
	if how == prefixWalk && s.dialect == Postgres && customer == 0 {
		// PostgreSQL walks the email index alone, an index-only scan of
		// the covering end_users_email (migration 0012), and reads the
		// table for the page's rows only: walking the table read a heap
		// row for every index row passed (~13,000 for an MSP of 30,000
		// users on L).
		//
		// An MSP's walk tests each index row against the MSP's customers,
		// a constant array that PostgreSQL hashes, and leaves the
		// organization (the scope's path) to the page's rows. As IN
		// (SELECT ...) PostgreSQL made the customers a semi-join and sorted
		// all the MSP's users; as = ANY(ARRAY(SELECT ...)) it read them
		// through end_users_customer_id, or searched the unhashed array
		// for every row (40 ms at the largest MSP); with the organization
		// joined in the walk it estimated few matches, planned a parallel
		// walk and read an organization per distinct customer passed
		// (16–20 ms at an MSP of 30,000 users). "+ 0" keeps the array
		// from being an index condition.
		inner := `SELECT u.id FROM ` + from + ` WHERE ` + strings.Join(where, " AND ")
		if msp != 0 {
			where = append([]string{`u.customer_id + 0 = ANY(` + b.arg(set) + `)`}, where[2:]...)
			inner = `SELECT u.id FROM end_users u WHERE ` + strings.Join(where, " AND ")
		}
		lim := b.arg(int64(limit))
		return Statement{
			Query: `SELECT ` + endUserColumns + ` FROM end_users u JOIN orgs o ON o.id = u.customer_id WHERE o.path >= ` + plo + ` AND o.path < ` + phi +
				` AND u.id IN (` + inner + ` ORDER BY ` + b.email("u") + `, u.id LIMIT ` + lim + `) ORDER BY ` + b.email("u") + `, u.id LIMIT ` + lim,
			Args: b.args,
		}
	}
	return Statement{
		Query: `SELECT ` + endUserColumns + ` FROM ` + from + ` WHERE ` + strings.Join(where, " AND ") +
			` ORDER BY ` + b.email("u") + `, u.id LIMIT ` + b.arg(int64(limit)),
		Args: b.args,
	}
}

// containsSQL builds a contains-search statement: the scope's users read
// whole when small, else the trigram index in id order.
func (s *Store) containsSQL(scope canopy.Scope, customer, msp canopy.OrgID, text string, small bool, afterID, lo, hi int64, limit int) Statement {
	b := &searchSQL{dialect: s.dialect}
	plo, phi := scope.Bounds()
	after := b.arg(max(afterID, lo-1))
	where := []string{`o.path >= ` + b.arg(plo), `o.path < ` + b.arg(phi)}
	if customer != 0 {
		where = append(where, `u.customer_id = `+b.arg(int64(customer)))
	}
	like := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(text)
	test := func() string {
		p := b.arg("%" + like + "%")
		return `(u.email LIKE ` + p + ` ESCAPE '\' OR lower(u.first_name || ' ' || u.last_name) LIKE ` + p + ` ESCAPE '\')`
	}
	from := `end_users u JOIN orgs o ON o.id = u.customer_id`
	order := `u.id`
	where = append(where, `u.id > `+after)
	if hi != 0 {
		where = append(where, `u.id <= `+b.arg(hi))
	}
	switch {
	case small && customer == 0 && msp != 0:
		from = `customers c JOIN end_users u ON u.customer_id = c.org_id JOIN orgs o ON o.id = u.customer_id`
		where = append(where, `c.msp_id = `+b.arg(int64(msp)), test())
	case small || s.dialect == Postgres:
		where = append(where, test())
	default:
		// A phrase of the whole query: FTS5 syntax (quotes, *, NEAR, AND,
		// column filters) inside it is text to find.
		from = `end_user_search f JOIN end_users u ON u.id = f.rowid JOIN orgs o ON o.id = u.customer_id`
		for i, w := range where {
			where[i] = strings.Replace(w, "u.id ", "f.rowid ", 1)
		}
		where = append(where, `end_user_search MATCH `+b.arg(`"`+strings.ReplaceAll(text, `"`, `""`)+`"`))
		order = `f.rowid`
	}
	return Statement{
		Query: `SELECT ` + endUserColumns + ` FROM ` + from + ` WHERE ` + strings.Join(where, " AND ") + ` ORDER BY ` + order + ` LIMIT ` + b.arg(int64(limit)),
		Args:  b.args,
	}
}
