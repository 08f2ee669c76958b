package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"

	"github.com/duetrpc/duet/examples/users/userspb"
)

// BenchmarkREST measures the users API through REST on SQLite, end to end
// over loopback HTTP: GET one user, and a page of 20. Profile it with
// -cpuprofile to see the duet layer's share against the database's:
//
//	go -C examples test -run '^$' -bench REST -cpuprofile /tmp/cpu.out ./users
func BenchmarkREST(b *testing.B) {
	store := testStore(b)
	ctx := context.Background()
	for i := 0; i < 200; i++ {
		if _, err := store.CreateUser(ctx, &userspb.User{Email: "bench" + strconv.Itoa(i) + "@example.com", Name: "Bench User " + strconv.Itoa(i), Status: "active"}); err != nil {
			b.Fatal(err)
		}
	}
	srv := newServer(store, testKeys)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(sctx, lis, 0) }()
	defer func() { cancel(); <-done }()
	base := "http://" + lis.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	for _, bc := range []struct{ name, path string }{
		{"GetUser", "/v1/users/1050"},
		{"ListUsers20", "/v1/users?page_size=20"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Get(base + bc.path)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("%s: %s", bc.path, resp.Status)
						return
					}
				}
			})
		})
	}
}
