// Package descset writes the descriptors linked into a program, so that
// protoc can compile protos that import them without their .proto source
// in the repository: as a FileDescriptorSet (--descriptor_set_in, [Write])
// or as .proto source rebuilt from the descriptors (-I, [WriteSources]).
// The code generators of the root and bench modules and the protoimports
// command use it.
package descset

import (
	"fmt"
	"os"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Write writes the files at the given import paths ("google/api/http.proto")
// and everything they import, dependencies first, to path. Each file must be
// linked into the program, usually by a blank import of its Go package.
func Write(path string, roots ...string) error {
	files, err := closure(roots)
	if err != nil {
		return err
	}
	var set descriptorpb.FileDescriptorSet
	for _, fd := range files {
		set.File = append(set.File, protodesc.ToFileDescriptorProto(fd))
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(&set)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// closure returns the linked files at the given import paths and everything
// they import, each file after its imports.
func closure(roots []string) ([]protoreflect.FileDescriptor, error) {
	var files []protoreflect.FileDescriptor
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		imports := fd.Imports()
		for i := 0; i < imports.Len(); i++ {
			add(imports.Get(i).FileDescriptor)
		}
		files = append(files, fd)
	}
	for _, name := range roots {
		fd, err := protoregistry.GlobalFiles.FindFileByPath(name)
		if err != nil {
			return nil, fmt.Errorf("descriptor for %s is not linked in: %w", name, err)
		}
		add(fd)
	}
	return files, nil
}
