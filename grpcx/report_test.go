package grpcx_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/duetrpc/duet/grpcx"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestDefaultReportLogs: the zero grpcx.Server logs what it keeps from
// the client (an internal error's text, a panic with its stack) through
// log/slog, and the client sees neither.
func TestDefaultReportLogs(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)
	chain := grpcx.Server{}.UnaryInterceptors()[0]
	info := &grpc.UnaryServerInfo{FullMethod: "/pkg.S/M"}
	for _, tt := range []struct {
		name    string
		handler grpc.UnaryHandler
		logged  []string
	}{
		{"plain error", func(context.Context, any) (any, error) { return nil, errors.New("db password=hunter2") },
			[]string{"method=/pkg.S/M", "code=Internal", "db password=hunter2"}},
		{"internal status", func(context.Context, any) (any, error) { return nil, status.Error(codes.DataLoss, "disk 3") },
			[]string{"code=DataLoss", "disk 3"}},
		{"panic", func(context.Context, any) (any, error) { panic("nil map") },
			[]string{"handler panicked", "nil map", "stack="}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			buf.Reset()
			_, err := chain(context.Background(), nil, info, tt.handler)
			for _, secret := range []string{"hunter2", "disk 3", "nil map"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("client sees %q", err)
				}
			}
			for _, want := range tt.logged {
				if !strings.Contains(buf.String(), want) {
					t.Errorf("log %q lacks %q", buf.String(), want)
				}
			}
		})
	}
}
