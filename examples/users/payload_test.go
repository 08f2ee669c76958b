package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/duetrpc/duet/examples/users/userspb"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// articleOrder is the order of the article's payload comparison.
func articleOrder() *userspb.Order {
	return &userspb.Order{
		Id:     "ord-12345",
		UserId: "user-67890",
		Items: []*userspb.OrderItem{
			{ProductId: "prod-001", Quantity: 2, Price: 29.99},
			{ProductId: "prod-002", Quantity: 1, Price: 49.99},
		},
		Total:     109.97,
		Status:    "pending",
		CreatedAt: timestamppb.New(time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)),
	}
}

// TestPayloadSize measures the article's claim ("JSON ~280 bytes,
// protobuf ~85 bytes") with this service's own Order message. Run with -v
// to see the numbers.
func TestPayloadSize(t *testing.T) {
	o := articleOrder()
	pb, err := proto.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	pj, err := protojson.Marshal(o) // what the REST API sends, minus links
	if err != nil {
		t.Fatal(err)
	}
	// The article's JSON, field for field, compact.
	aj, err := json.Marshal(map[string]any{
		"order_id": "ord-12345", "user_id": "user-67890",
		"items": []map[string]any{
			{"product_id": "prod-001", "quantity": 2, "price": 29.99},
			{"product_id": "prod-002", "quantity": 1, "price": 49.99},
		},
		"total": 109.97, "status": "pending", "created_at": "2024-01-15T10:30:00Z",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("article JSON: %d bytes, protojson: %d bytes, protobuf: %d bytes (%.1fx smaller than the article's JSON)",
		len(aj), len(pj), len(pb), float64(len(aj))/float64(len(pb)))
	if len(pb) >= len(pj) || len(pb) >= len(aj) {
		t.Errorf("protobuf (%d bytes) is not smaller than JSON (%d, %d bytes)", len(pb), len(pj), len(aj))
	}
	var back userspb.Order
	if err := proto.Unmarshal(pb, &back); err != nil || !proto.Equal(&back, o) {
		t.Errorf("protobuf round trip lost data: %v", err)
	}
}

func BenchmarkPayload(b *testing.B) {
	o := articleOrder()
	b.Run("protobuf", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			out, _ := proto.Marshal(o)
			b.SetBytes(int64(len(out)))
		}
	})
	b.Run("protojson", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			out, _ := protojson.Marshal(o)
			b.SetBytes(int64(len(out)))
		}
	})
}
