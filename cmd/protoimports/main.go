// Command protoimports writes the .proto files that a service served by
// duet imports for its REST mapping, so that protoc can compile it:
// google/api/annotations.proto (the google.api.http option),
// google/api/http.proto, google/api/httpbody.proto (raw request and
// response bodies) and google/api/field_behavior.proto (REQUIRED,
// OUTPUT_ONLY, …).
//
// The files are not copied from anywhere: they are rebuilt from the
// descriptors that google.golang.org/genproto links into this program,
// the same version duet itself is built with, so what protoc compiles
// against is exactly what the rest transcoder reads at run time.
//
// Usage, from the root of your module:
//
//	go run github.com/duetrpc/duet/cmd/protoimports -out third_party
//	protoc -I . -I third_party \
//		--go_out=. --go_opt=paths=source_relative \
//		--go-grpc_out=. --go-grpc_opt=paths=source_relative \
//		greeter/v1/greeter.proto
//
// Import paths given as arguments replace the default list; any file of
// genproto's googleapis/api and googleapis/rpc packages may be named, such as
// google/rpc/status.proto or google/api/resource.proto. The files they
// import are written too, except the well-known types
// (google/protobuf/*.proto), which protoc ships in its own include
// directory (Debian: apt-get install protobuf-compiler).
//
// -descriptor_set_out also writes the same files, well-known types
// included, as one FileDescriptorSet, for protoc --descriptor_set_in.
//
// With buf there is nothing to write: depend on buf.build/googleapis/googleapis
// in buf.yaml (the README's "Your own service" shows both ways).
package main

import (
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/duetrpc/duet/internal/descset"

	// Linked for their descriptors, which are what the command writes.
	_ "google.golang.org/genproto/googleapis/api/annotations"
	_ "google.golang.org/genproto/googleapis/api/httpbody"
	_ "google.golang.org/genproto/googleapis/rpc/code"
	_ "google.golang.org/genproto/googleapis/rpc/errdetails"
	_ "google.golang.org/genproto/googleapis/rpc/status"
)

// defaults are the files duet's REST rules use.
var defaults = []string{
	"google/api/annotations.proto",
	"google/api/http.proto",
	"google/api/httpbody.proto",
	"google/api/field_behavior.proto",
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("protoimports: ")
	out := flag.String("out", "third_party", "directory to write the .proto files under, for protoc -I")
	setOut := flag.String("descriptor_set_out", "", "also write the files and all they import as a FileDescriptorSet, for protoc --descriptor_set_in")
	quiet := flag.Bool("q", false, "do not list the files written")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: protoimports [-out dir] [-descriptor_set_out file] [import/path.proto ...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	roots := defaults
	if flag.NArg() > 0 {
		roots = flag.Args()
	}
	written, err := descset.WriteSources(*out, roots...)
	if err != nil {
		log.Fatal(err)
	}
	if !*quiet {
		for _, f := range written {
			fmt.Fprintf(os.Stderr, "wrote %s/%s\n", *out, f)
		}
	}
	if *setOut != "" {
		if err := descset.Write(*setOut, roots...); err != nil {
			log.Fatal(err)
		}
	}
}
