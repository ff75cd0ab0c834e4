package sqlite

import (
	"context"
	"database/sql"
	"math"
	"time"

	"chengdui"
	"chengdui/bitcoin"
)

var _ bitcoin.CoinStore = (*DB)(nil)

const coinCols = `chain, txid, vout, value, pk_script, address, change, idx, height, block_hash, spent_by, created_at`

// PutCoin implements bitcoin.CoinStore. Codes: EInvalid for a coin without
// chain or txid, or with a negative value.
func (d *DB) PutCoin(ctx context.Context, c bitcoin.Coin) error {
	if err := checkCoin(c); err != nil {
		return err
	}
	script := c.PkScript
	if script == nil {
		script = []byte{}
	}
	_, err := d.write.ExecContext(ctx, `INSERT INTO btc_coins (`+coinCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (chain, txid, vout) DO UPDATE SET value = excluded.value, pk_script = excluded.pk_script,
			address = excluded.address, change = excluded.change, idx = excluded.idx, height = excluded.height,
			block_hash = excluded.block_hash, spent_by = CASE WHEN excluded.spent_by = '' THEN btc_coins.spent_by ELSE excluded.spent_by END,
			created_at = excluded.created_at`,
		c.Chain, c.TxID, int64(c.Vout), c.Value, script, c.Address, int64(c.Change), int64(c.Index), int64(c.Height),
		c.BlockHash, c.SpentBy, c.CreatedAt.UnixMicro())
	return err
}

// checkCoin refuses what no table row can hold.
func checkCoin(c bitcoin.Coin) error {
	switch {
	case c.Chain == "" || c.TxID == "":
		return chengdui.Errorf(chengdui.EInvalid, "coin %s:%d: chain and txid are required", c.TxID, c.Vout)
	case c.Value < 0:
		return chengdui.Errorf(chengdui.EInvalid, "coin %s:%d: value %d is negative", c.TxID, c.Vout, c.Value)
	case c.Height > math.MaxInt64:
		return chengdui.Errorf(chengdui.EInvalid, "coin %s:%d: height %d is out of range", c.TxID, c.Vout, c.Height)
	}
	return nil
}

// SpendCoins implements bitcoin.CoinStore, in one transaction. Codes:
// EInvalid for an empty txid.
func (d *DB) SpendCoins(ctx context.Context, chain string, outpoints []bitcoin.OutPointRef, txid string) error {
	if txid == "" {
		return chengdui.Errorf(chengdui.EInvalid, "spend coins of %s: the spending txid is required", chain)
	}
	if len(outpoints) == 0 {
		return nil
	}
	return d.tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `UPDATE btc_coins SET spent_by = ? WHERE chain = ? AND txid = ? AND vout = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, op := range outpoints {
			if _, err := st.ExecContext(ctx, txid, chain, op.TxID, int64(op.Vout)); err != nil {
				return err
			}
		}
		return nil
	})
}

// UnspendCoins implements bitcoin.CoinStore. Codes: EInvalid for an empty
// txid.
func (d *DB) UnspendCoins(ctx context.Context, chain, txid string) error {
	if txid == "" {
		return chengdui.Errorf(chengdui.EInvalid, "unspend coins of %s: the spending txid is required", chain)
	}
	_, err := d.write.ExecContext(ctx, `UPDATE btc_coins SET spent_by = '' WHERE chain = ? AND spent_by = ?`, chain, txid)
	return err
}

// Coins implements bitcoin.CoinStore.
func (d *DB) Coins(ctx context.Context, chain string, unspentOnly bool) ([]bitcoin.Coin, error) {
	q := `SELECT ` + coinCols + ` FROM btc_coins WHERE chain = ?`
	if unspentOnly {
		q += ` AND spent_by = ''`
	}
	rows, err := d.read.QueryContext(ctx, q+` ORDER BY created_at, txid, vout`, chain)
	return collect(rows, err, scanCoin)
}

// DisconnectCoins implements bitcoin.CoinStore.
func (d *DB) DisconnectCoins(ctx context.Context, chain string, height uint64) error {
	_, err := d.write.ExecContext(ctx, `UPDATE btc_coins SET height = 0, block_hash = ''
		WHERE chain = ? AND height >= ? AND height > 0`, chain, clampHeight(height))
	return err
}

func scanCoin(r scanner) (bitcoin.Coin, error) {
	var c bitcoin.Coin
	var vout, change, idx, height, created int64
	if err := r.Scan(&c.Chain, &c.TxID, &vout, &c.Value, &c.PkScript, &c.Address, &change, &idx, &height,
		&c.BlockHash, &c.SpentBy, &created); err != nil {
		return bitcoin.Coin{}, err
	}
	if len(c.PkScript) == 0 {
		c.PkScript = nil
	}
	c.Vout, c.Change, c.Index, c.Height = uint32(vout), uint32(change), uint32(idx), uint64(height)
	c.CreatedAt = time.UnixMicro(created).UTC()
	return c, nil
}
