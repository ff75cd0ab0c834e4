package main

import (
	"context"
	"fmt"
)

func runMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "migrate", "migrate [--data-dir DIR | --db DSN]")
	var sf storeFlags
	sf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	db, err := openDatabase(ctx, sf.resolve(), true)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(e.stdout, "schema is current at version %d\n", v)
	} else {
		fmt.Fprintf(e.stdout, "applied migrations %v; schema at version %d\n", applied, v)
	}
	return nil
}
