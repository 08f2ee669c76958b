// The browser side of TestBrowser (browser_test.go): calls duet with
// @connectrpc/connect-web's gRPC-Web transport, the way a web app does,
// with the proto and the JSON codec. The service's descriptors arrive as
// a FileDescriptorSet, so no code is generated.
import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { createFileRegistry, fromBinary, toJson } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { base64Decode } from "@bufbuild/protobuf/wire";

export async function run(api, descriptorSet) {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, base64Decode(descriptorSet)));
  const service = registry.getService("duet.test.v1.Kitchens");
  const kitchen = registry.getMessage("duet.test.v1.Kitchen");
  const results = {};
  for (const [codec, useBinaryFormat] of [["proto", true], ["json", false]]) {
    const client = createClient(service, createGrpcWebTransport({ baseUrl: api, useBinaryFormat }));
    let header, trailer;
    const k = await client.getKitchen({ id: "5" }, {
      headers: { "X-Tenant": "acme" },
      onHeader: (h) => { header = h; },
      onTrailer: (t) => { trailer = t; },
    });
    results["npm unary " + codec] = {
      kitchen: toJson(kitchen, k),
      header: header.get("x-kitchen"),
      trailer: trailer.get("x-done"),
    };
    const tail = [];
    for await (const n of client.tail({ count: 3 })) tail.push(n.i);
    results["npm stream " + codec] = tail;
    try {
      await client.getKitchen({ id: "missing" });
      results["npm error " + codec] = "no error";
    } catch (e) {
      results["npm error " + codec] = { code: e.code, message: e.rawMessage, details: e.details.length };
    }
  }
  return results;
}
