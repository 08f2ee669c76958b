package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/duetrpc/duet/examples/files/filespb"
	"github.com/duetrpc/duet/problem"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc/codes"
)

// chunkSize is the largest chunk DownloadFile sends: 64 KiB, a common
// choice for streaming files over gRPC, well under gRPC's default 4 MiB message limit.
const chunkSize = 64 << 10

// service stores files under dir. Memory use does not depend on file size:
// uploads are written chunk by chunk, downloads read one chunk at a time.
type service struct {
	filespb.UnimplementedFileServiceServer
	dir string
}

func (s *service) UploadFile(stream filespb.FileService_UploadFileServer) error {
	// Write to a temporary file and rename it at the end, so a failed or
	// cancelled upload never leaves a partial file under a valid id.
	tmp, err := os.CreateTemp(s.dir, "upload-*.tmp")
	if err != nil {
		return problem.New(codes.Internal, err.Error())
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	defer tmp.Close()

	h := sha256.New()
	w := io.MultiWriter(tmp, h)
	var n int64
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err // the client went away or sent garbage
		}
		if _, err := w.Write(chunk.GetData()); err != nil {
			return problem.New(codes.Internal, err.Error())
		}
		n += int64(len(chunk.GetData()))
	}
	if err := tmp.Close(); err != nil {
		return problem.New(codes.Internal, err.Error())
	}
	id := newID()
	if err := os.Rename(tmp.Name(), filepath.Join(s.dir, id)); err != nil {
		return problem.New(codes.Internal, err.Error())
	}
	return stream.SendAndClose(&filespb.UploadStatus{FileId: id, BytesReceived: n, Sha256: hex.EncodeToString(h.Sum(nil))})
}

func (s *service) DownloadFile(req *filespb.DownloadFileRequest, stream filespb.FileService_DownloadFileServer) error {
	if !validID(req.GetFileId()) {
		// Never let a client name a path: ids are 32 hex digits.
		return problem.InvalidArgument("invalid file_id", problem.Violation{Field: "file_id", Reason: "INVALID_FORMAT", Description: "file_id must be 32 hex digits"})
	}
	f, err := os.Open(filepath.Join(s.dir, req.GetFileId()))
	if errors.Is(err, os.ErrNotExist) {
		return problem.NotFound("file", "files/"+req.GetFileId())
	}
	if err != nil {
		return problem.New(codes.Internal, err.Error())
	}
	defer f.Close()
	buf := make([]byte, chunkSize)
	for {
		n, err := io.ReadFull(f, buf)
		if n > 0 {
			// Send copies the bytes into a frame before returning, so buf
			// can be reused for the next chunk.
			if err := stream.Send(&httpbody.HttpBody{ContentType: "application/octet-stream", Data: buf[:n]}); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			return problem.New(codes.Internal, err.Error())
		}
	}
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}
