package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"connectrpc.com/vanguard/vanguardgrpc"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/duetrpc/duet/bench/internal/bookpb"
	"github.com/duetrpc/duet/rest"
)

// library is the one service implementation all four handlers call. It is
// read-only (CreateBook echoes the new book without storing it) so that
// benchmark iterations do not change each other's work.
type library struct {
	bookpb.UnimplementedLibraryServer
	books map[string]*bookpb.Book
	list  []*bookpb.Book
}

func newLibrary() *library {
	l := &library{books: map[string]*bookpb.Book{}}
	for i := 1; i <= 20; i++ {
		b := &bookpb.Book{
			Name:       fmt.Sprintf("shelves/1/books/%d", i),
			Title:      fmt.Sprintf("The Go Programming Language, volume %d", i),
			Author:     "Alan A. A. Donovan, Brian W. Kernighan",
			Pages:      int32(380 + i),
			Tags:       []string{"go", "programming"},
			CreateTime: timestamppb.New(fixedTime),
		}
		l.books[b.Name] = b
		l.list = append(l.list, b)
	}
	return l
}

func (l *library) GetBook(_ context.Context, r *bookpb.GetBookRequest) (*bookpb.Book, error) {
	b, ok := l.books[r.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "book %q not found", r.GetName())
	}
	return b, nil
}

func (l *library) ListBooks(_ context.Context, r *bookpb.ListBooksRequest) (*bookpb.ListBooksResponse, error) {
	if r.GetParent() != "shelves/1" {
		return nil, status.Errorf(codes.NotFound, "shelf %q not found", r.GetParent())
	}
	n := int(r.GetPageSize())
	if n <= 0 || n > len(l.list) {
		n = len(l.list)
	}
	return &bookpb.ListBooksResponse{Books: l.list[:n]}, nil
}

func (l *library) CreateBook(_ context.Context, r *bookpb.CreateBookRequest) (*bookpb.Book, error) {
	if r.GetBookId() == "" || r.GetBook().GetTitle() == "" {
		return nil, status.Error(codes.InvalidArgument, "book_id and book.title are required")
	}
	b := proto.Clone(r.GetBook()).(*bookpb.Book)
	b.Name = r.GetParent() + "/books/" + r.GetBookId()
	b.CreateTime = timestamppb.New(fixedTime)
	return b, nil
}

// newDuet serves the library through duet's REST transcoder with its
// defaults: hypermedia links are opt-in, so the bodies are the peers'.
func newDuet(l *library) http.Handler {
	h := rest.NewHandler()
	bookpb.RegisterLibraryServer(h, l)
	return h
}

// newGateway serves the library through grpc-gateway v2 in process, with its
// default marshaler.
func newGateway(l *library) http.Handler {
	mux := runtime.NewServeMux()
	if err := bookpb.RegisterLibraryHandlerServer(context.Background(), mux, l); err != nil {
		panic(err)
	}
	return mux
}

// newVanguard serves the library through vanguard-go transcoding REST to the
// gRPC protocol of a grpc.Server (via its ServeHTTP), in process.
func newVanguard(l *library) http.Handler {
	s := grpc.NewServer()
	bookpb.RegisterLibraryServer(s, l)
	t, err := vanguardgrpc.NewTranscoder(s)
	if err != nil {
		panic(err)
	}
	return t
}

// newHandWritten is what a careful engineer writes by hand: ServeMux
// patterns, protojson in and out, direct calls on the implementation.
func newHandWritten(l *library) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/shelves/{shelf}/books/{book}", func(w http.ResponseWriter, r *http.Request) {
		b, err := l.GetBook(r.Context(), &bookpb.GetBookRequest{
			Name: "shelves/" + r.PathValue("shelf") + "/books/" + r.PathValue("book"),
		})
		writeMessage(w, http.StatusOK, b, err)
	})
	mux.HandleFunc("GET /v1/shelves/{shelf}/books", func(w http.ResponseWriter, r *http.Request) {
		req := &bookpb.ListBooksRequest{Parent: "shelves/" + r.PathValue("shelf")}
		q := r.URL.Query()
		if s := q.Get("page_size"); s != "" {
			n, err := strconv.ParseInt(s, 10, 32)
			if err != nil {
				writeMessage(w, 0, nil, status.Error(codes.InvalidArgument, "page_size: not an integer"))
				return
			}
			req.PageSize = int32(n)
		}
		req.PageToken = q.Get("page_token")
		resp, err := l.ListBooks(r.Context(), req)
		writeMessage(w, http.StatusOK, resp, err)
	})
	mux.HandleFunc("POST /v1/shelves/{shelf}/books", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<20))
		if err != nil {
			writeMessage(w, 0, nil, status.Error(codes.InvalidArgument, err.Error()))
			return
		}
		req := &bookpb.CreateBookRequest{
			Parent: "shelves/" + r.PathValue("shelf"),
			BookId: r.URL.Query().Get("book_id"),
			Book:   &bookpb.Book{},
		}
		if err := protojson.Unmarshal(body, req.Book); err != nil {
			writeMessage(w, 0, nil, status.Error(codes.InvalidArgument, err.Error()))
			return
		}
		b, err := l.CreateBook(r.Context(), req)
		if err == nil {
			w.Header().Set("Location", "/v1/"+b.GetName())
		}
		writeMessage(w, http.StatusCreated, b, err)
	})
	return mux
}

func writeMessage(w http.ResponseWriter, code int, m proto.Message, err error) {
	if err != nil {
		st := status.Convert(err)
		m, code = st.Proto(), runtime.HTTPStatusFromCode(st.Code())
	}
	// EmitUnpopulated matches grpc-gateway's default marshaler, the shape
	// existing REST clients of a gRPC service usually expect.
	b, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
