package bench

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/duetrpc/duet/bench/internal/bookpb"
	"github.com/duetrpc/duet/rest"
)

// plainBook is bookpb.Book as a plain Go struct, for the encoding/json
// floor: the same JSON (names, every field emitted, RFC 3339 time) with no
// protobuf in the way.
type plainBook struct {
	Name       string    `json:"name"`
	Title      string    `json:"title"`
	Author     string    `json:"author"`
	Pages      int32     `json:"pages"`
	Tags       []string  `json:"tags"`
	CreateTime time.Time `json:"createTime"`
}

type plainList struct {
	Books         []*plainBook `json:"books"`
	NextPageToken string       `json:"nextPageToken"`
}

// newPlainJSON is the floor of the JSON work: a ServeMux over the library
// as plain structs, encoding/json in and out. It is what the same service
// costs when it owes protobuf nothing.
func newPlainJSON(l *library) http.Handler {
	books := map[string]*plainBook{}
	var list []*plainBook
	for _, b := range l.list {
		p := &plainBook{Name: b.Name, Title: b.Title, Author: b.Author, Pages: b.Pages, Tags: b.Tags, CreateTime: b.CreateTime.AsTime()}
		books[p.Name] = p
		list = append(list, p)
	}
	write := func(w http.ResponseWriter, code int, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write(b)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/shelves/{shelf}/books/{book}", func(w http.ResponseWriter, r *http.Request) {
		b, ok := books["shelves/"+r.PathValue("shelf")+"/books/"+r.PathValue("book")]
		if !ok {
			http.Error(w, `{"code":5,"message":"not found"}`, http.StatusNotFound)
			return
		}
		write(w, http.StatusOK, b)
	})
	mux.HandleFunc("GET /v1/shelves/{shelf}/books", func(w http.ResponseWriter, r *http.Request) {
		n := len(list)
		if s := r.URL.Query().Get("page_size"); s != "" {
			v, err := strconv.Atoi(s)
			if err != nil {
				http.Error(w, `{"code":3,"message":"page_size"}`, http.StatusBadRequest)
				return
			}
			if v > 0 && v < n {
				n = v
			}
		}
		write(w, http.StatusOK, &plainList{Books: list[:n]})
	})
	mux.HandleFunc("POST /v1/shelves/{shelf}/books", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<20))
		var b plainBook
		if err == nil {
			err = json.Unmarshal(body, &b)
		}
		if err != nil || b.Title == "" {
			http.Error(w, `{"code":3,"message":"bad book"}`, http.StatusBadRequest)
			return
		}
		b.Name = "shelves/" + r.PathValue("shelf") + "/books/" + r.URL.Query().Get("book_id")
		b.CreateTime = fixedTime
		w.Header().Set("Location", "/v1/"+b.Name)
		write(w, http.StatusCreated, &b)
	})
	return mux
}

// newDuetProtojson is duet as it was before its own JSON encoder: the
// same handler, with protojson writing every message.
func newDuetProtojson(l *library) http.Handler {
	h := rest.NewHandler(rest.WithProtojson())
	bookpb.RegisterLibraryServer(h, l)
	return h
}
