package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/duetrpc/duet/examples/files/filespb"
	"github.com/duetrpc/duet/internal/exchange"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// client makes the tests' REST calls. When $DUET_EXCHANGES is set (as in
// CI), it records each exchange so that tools/openapicheck can validate it
// against the OpenAPI document; streamed bodies (the large uploads and
// downloads) pass through unrecorded, so memory stays bounded.
var client = &http.Client{Transport: exchange.Transport(http.DefaultTransport)}

// get sends a GET with the bearer token the OpenAPI document declares (the
// example does not check it).
func get(url string) (*http.Response, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer test-token")
	return client.Do(req)
}

func start(t *testing.T) (string, filespb.FileServiceClient) {
	t.Helper()
	srv := newServer(t.TempDir())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, lis, 0) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		<-done
	})
	return "http://" + lis.Addr().String(), filespb.NewFileServiceClient(conn)
}

// source yields n deterministic bytes without holding them: a 1 MiB
// pseudo-random pattern (prime-offset so chunks differ), repeated.
type source struct {
	n, off uint64
}

var pattern = func() []byte {
	p := make([]byte, 1<<20)
	x := uint64(88172645463325252)
	for i := range p {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		p[i] = byte(x)
	}
	return p
}()

func (s *source) Read(p []byte) (int, error) {
	if s.n == 0 {
		return 0, io.EOF
	}
	if uint64(len(p)) > s.n {
		p = p[:s.n]
	}
	k := copy(p, pattern[s.off%uint64(len(pattern)):])
	s.off += uint64(k) + 7
	s.n -= uint64(k)
	return k, nil
}

// peakHeap samples the live heap until stop is called and returns the
// largest value seen. Each sample follows a forced collection, so it
// counts only what the transfer holds on to, never garbage the collector
// has not reached yet: a file buffered whole shows up (it stays live for
// the whole transfer), and GC timing cannot make the test fail, as
// sampling HeapInuse between collections once did (73 MiB in one run of
// ten for a 101 MiB file).
func peakHeap() (stop func() uint64) {
	runtime.GC()
	var peak uint64
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(quit); <-done; return peak }
}

func size(t *testing.T) uint64 {
	if testing.Short() {
		return 8 << 20
	}
	return 101 << 20 // more than 100 MiB, as the issue asks
}

func sum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

func TestGRPCLargeFile(t *testing.T) {
	_, c := start(t)
	ctx := context.Background()
	n := size(t)
	stop := peakHeap()

	up, err := c.UploadFile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.New()
	src := io.TeeReader(&source{n: n}, want)
	buf := make([]byte, chunkSize)
	for {
		k, err := io.ReadFull(src, buf)
		if k > 0 {
			if err := up.Send(&httpbody.HttpBody{Data: buf[:k]}); err != nil {
				t.Fatal(err)
			}
		}
		if err != nil {
			break
		}
	}
	st, err := up.CloseAndRecv()
	if err != nil {
		t.Fatal(err)
	}
	if st.BytesReceived != int64(n) || st.Sha256 != sum(want) {
		t.Fatalf("upload status %v, want %d bytes, sha256 %s", st, n, sum(want))
	}

	down, err := c.DownloadFile(ctx, &filespb.DownloadFileRequest{FileId: st.FileId})
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	var total uint64
	for {
		chunk, err := down.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(chunk.Data) > chunkSize {
			t.Fatalf("chunk of %d bytes, want at most %d", len(chunk.Data), chunkSize)
		}
		got.Write(chunk.Data)
		total += uint64(len(chunk.Data))
	}
	if total != n || sum(got) != sum(want) {
		t.Errorf("downloaded %d bytes with sha256 %s, want %d and %s", total, sum(got), n, sum(want))
	}
	if peak := stop(); peak > 64<<20 {
		t.Errorf("live heap peaked at %d MiB for a %d MiB file, want under 64 MiB", peak>>20, n>>20)
	}
}

func TestRESTLargeFile(t *testing.T) {
	base, _ := start(t)
	n := size(t)
	stop := peakHeap()

	want := sha256.New()
	// A body of unknown length goes out chunked, streamed, never buffered.
	body := io.NopCloser(io.TeeReader(&source{n: n, off: 3}, want))
	req, err := http.NewRequest("POST", base+"/v1/files", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1 // unknown: the recorder must not buffer it either
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Authorization", "Bearer test-token") // as the OpenAPI document declares
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		FileID        string `json:"fileId"`
		BytesReceived string `json:"bytesReceived"` // int64 is a JSON string
		Sha256        string `json:"sha256"`
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("upload: %d %v %+v", resp.StatusCode, err, st)
	}
	if st.Sha256 != sum(want) {
		t.Fatalf("upload sha256 %s, want %s", st.Sha256, sum(want))
	}

	resp, err = get(base + "/v1/files/" + st.FileID)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("download: %d", resp.StatusCode)
	}
	got := sha256.New()
	k, err := io.Copy(got, resp.Body)
	if err != nil || uint64(k) != n || sum(got) != sum(want) {
		t.Errorf("downloaded %d bytes (%v) with sha256 %s, want %d and %s", k, err, sum(got), n, sum(want))
	}
	if peak := stop(); peak > 64<<20 {
		t.Errorf("live heap peaked at %d MiB for a %d MiB file, want under 64 MiB", peak>>20, n>>20)
	}
}

func TestErrors(t *testing.T) {
	base, c := start(t)
	ctx := context.Background()
	tests := []struct {
		id     string
		code   codes.Code
		status int
	}{
		{"0123456789abcdef0123456789abcdef", codes.NotFound, 404},
		{"..%2Fetc%2Fpasswd", codes.InvalidArgument, 400},
		{"short", codes.InvalidArgument, 400},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			id := strings.ReplaceAll(tt.id, "%2F", "/")
			down, err := c.DownloadFile(ctx, &filespb.DownloadFileRequest{FileId: id})
			if err == nil {
				_, err = down.Recv()
			}
			if status.Code(err) != tt.code {
				t.Errorf("gRPC: %v, want %v", err, tt.code)
			}
			resp, err := get(base + "/v1/files/" + tt.id)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("REST: %d %s, want %d problem", resp.StatusCode, resp.Header.Get("Content-Type"), tt.status)
			}
		})
	}
}
