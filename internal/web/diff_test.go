package web

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestDiffFieldsShowsOnlyWhatChanged(t *testing.T) {
	cases := []struct {
		before, after string
		want          []fieldChange
	}{
		{`{"name":"Acme","plan":"standard"}`, `{"name":"Acme Ltd","plan":"standard"}`, []fieldChange{{"name", "Acme", "Acme Ltd"}}},
		{``, `{"max_users":0,"modules":["training","reports"]}`, []fieldChange{{"max users", "—", "0"}, {"modules", "—", "training, reports"}}},
		{`{"logo":true}`, ``, []fieldChange{{"logo", "true", "—"}}},
		{`"x"`, `[1,2]`, []fieldChange{{"", "x", "1, 2"}}},
	}
	for _, c := range cases {
		got := diffFields(json.RawMessage(c.before), json.RawMessage(c.after))
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("diff(%s, %s) = %+v; want %+v", c.before, c.after, got, c.want)
		}
	}
}
