package migration_test

import (
	"testing"
	"testing/fstest"

	"chengdui/migration"

	"github.com/stretchr/testify/require"
)

func TestLoad(t *testing.T) {
	ms, err := migration.Load(fstest.MapFS{
		"migrations/0002_b.sql": {Data: []byte("B")},
		"migrations/0001_a.sql": {Data: []byte("A")},
		"migrations/README.txt": {Data: []byte("ignored")},
		"migrations/0010_c.sql": {Data: []byte("C")},
		"elsewhere/0003_x.sql":  {Data: []byte("ignored")},
	})
	require.NoError(t, err)
	require.Equal(t, []migration.Migration{{1, "0001_a", "A"}, {2, "0002_b", "B"}, {10, "0010_c", "C"}}, ms)

	for name, fsys := range map[string]fstest.MapFS{
		"no number":      {"migrations/ledger.sql": {}},
		"no underscore":  {"migrations/0001.sql": {}},
		"zero":           {"migrations/0000_x.sql": {}},
		"shared version": {"migrations/0001_a.sql": {}, "migrations/01_b.sql": {}},
	} {
		_, err := migration.Load(fsys)
		require.Error(t, err, name)
	}
}
