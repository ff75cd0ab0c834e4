package sandbox

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"chengdui"
)

// Start serves the bank's Handler on addr ("127.0.0.1:0" picks a free
// port) and returns its base URL. stop shuts the server down, then closes
// the bank; it may be called more than once. Codes: EUnavailable when addr
// cannot be listened on.
func (b *Bank) Start(addr string) (baseURL string, stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, chengdui.Errorf(chengdui.EUnavailable, "sandbox: listening on %s: %v", addr, err)
	}
	srv := &http.Server{Handler: b.Handler(), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			b.log.Error("sandbox: serving", "error", err)
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
			<-done
			b.Close()
		})
	}
	return "http://" + ln.Addr().String(), stop, nil
}
