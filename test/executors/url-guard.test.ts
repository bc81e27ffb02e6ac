import type { LookupAddress } from "node:dns";
import { describe, expect, it } from "vitest";
import type { ApflowError } from "../../src/core/errors.js";
import { blockedRange, checkUrl, pinnedLookup } from "../../src/executors/url-guard.js";
import { caughtApflowError } from "./context.js";

// Classification only: public addresses are never contacted (there is no internet here).
describe("blockedRange", () => {
  it.each([
    ["127.0.0.1", "loopback address"],
    ["127.255.255.254", "loopback address"],
    ["10.1.2.3", "private network"],
    ["172.16.0.1", "private network"],
    ["172.31.255.255", "private network"],
    ["192.168.1.1", "private network"],
    ["169.254.169.254", "link-local address (cloud metadata)"],
    ["100.64.0.1", "carrier-grade NAT network"],
    ["100.127.255.255", "carrier-grade NAT network"],
    ["0.0.0.0", "unspecified address"],
    ["224.0.0.1", "multicast address"],
    ["255.255.255.255", "reserved address"],
    ["::", "unspecified address"],
    ["::1", "loopback address"],
    ["[::1]", "loopback address"],
    ["fc00::1", "unique local (private) address"],
    ["fd12:3456::1", "unique local (private) address"],
    ["fe80::1", "link-local address"],
    ["fe80::1%eth0", "link-local address"],
    ["ff02::1", "multicast address"],
    ["::ffff:127.0.0.1", "loopback address (embedded in IPv6)"],
    ["::ffff:7f00:1", "loopback address (embedded in IPv6)"],
    ["::ffff:10.0.0.1", "private network (embedded in IPv6)"],
    ["::ffff:a9fe:a9fe", "link-local address (cloud metadata) (embedded in IPv6)"],
    ["64:ff9b::a9fe:a9fe", "link-local address (cloud metadata) (embedded in IPv6)"],
    ["2002:7f00:1::", "loopback address (embedded in 6to4)"],
    ["example.com", "not an IP address"],
  ])("blocks %s (%s)", (ip, range) => {
    expect(blockedRange(ip)).toBe(range);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "172.15.255.255",
    "172.32.0.1",
    "100.63.255.255",
    "100.128.0.1",
    "192.169.0.1",
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",
    "2002:808:808::",
  ])("lets public %s through", (ip) => {
    expect(blockedRange(ip)).toBeNull();
  });
});

const resolveTo =
  (...addresses: string[]) =>
  async (): Promise<LookupAddress[]> =>
    addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));

async function refusal(url: string, options: Parameters<typeof checkUrl>[1]): Promise<ApflowError> {
  return caughtApflowError(() => checkUrl(new URL(url), options));
}

describe("checkUrl", () => {
  it("returns every checked address of a public host", async () => {
    const checked = await checkUrl(new URL("https://api.example.com/x"), {
      allowPrivate: false,
      resolve: resolveTo("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"),
    });
    expect(checked.addresses?.map((a) => a.address)).toEqual(["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]);
  });

  it("refuses a host when any of its addresses is private", async () => {
    const error = await refusal("http://mixed.example.com/", {
      allowPrivate: false,
      resolve: resolveTo("93.184.216.34", "10.0.0.5"),
    });
    expect(error.code).toBe("EXECUTOR_FORBIDDEN");
    expect(error.message).toContain("mixed.example.com resolves to 10.0.0.5, a private network");
    expect(error.message).toContain("APFLOW_REST_ALLOW_PRIVATE_URLS=1");
  });

  it("refuses localhost through the real resolver", async () => {
    const error = await refusal("http://localhost:1/", { allowPrivate: false });
    expect(error.code).toBe("EXECUTOR_FORBIDDEN");
    expect(error.details?.range).toBe("loopback address");
  });

  it("refuses IP literals without resolving them", async () => {
    const resolve = async (): Promise<LookupAddress[]> => {
      throw new Error("must not resolve a literal");
    };
    expect(
      (await refusal("http://169.254.169.254/latest/meta-data/", { allowPrivate: false, resolve })).message,
    ).toContain("169.254.169.254 is a link-local address");
    expect((await refusal("http://[fd00::1]/", { allowPrivate: false, resolve })).code).toBe("EXECUTOR_FORBIDDEN");
    expect((await refusal("http://0x7f.1/", { allowPrivate: false, resolve })).code).toBe("EXECUTOR_FORBIDDEN");
  });

  it("reports a host that does not resolve", async () => {
    const resolve = async (): Promise<LookupAddress[]> => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" });
    };
    const error = await refusal("http://nowhere.invalid/", { allowPrivate: false, resolve });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toBe("could not resolve host nowhere.invalid: ENOTFOUND");
  });

  it("skips the checks, and pinning, when private URLs are allowed", async () => {
    const checked = await checkUrl(new URL("http://127.0.0.1/"), {
      allowPrivate: true,
      resolve: async () => {
        throw new Error("must not resolve");
      },
    });
    expect(checked.addresses).toBeNull();
  });

  it("exempts allowed hosts but still pins them", async () => {
    const checked = await checkUrl(new URL("http://Internal.Corp/"), {
      allowPrivate: false,
      allowedHosts: ["internal.corp"],
      resolve: resolveTo("10.0.0.7"),
    });
    expect(checked.addresses).toEqual([{ address: "10.0.0.7", family: 4 }]);
  });

  it("accepts only http and https", async () => {
    for (const url of ["file:///etc/passwd", "ftp://example.com/", "gopher://example.com/"]) {
      expect((await refusal(url, { allowPrivate: true })).code).toBe("VALIDATION_ERROR");
    }
  });
});

describe("pinnedLookup", () => {
  const lookup = pinnedLookup([
    { address: "93.184.216.34", family: 4 },
    { address: "2606:2800:220:1::1", family: 6 },
  ]);
  const call = (options: Parameters<typeof lookup>[1]) =>
    new Promise<{ error: NodeJS.ErrnoException | null; address: unknown; family?: number }>((resolve) =>
      lookup("api.example.com", options, (error, address, family) => resolve({ error, address, family })),
    );

  it("answers with the checked addresses only", async () => {
    expect(await call({})).toEqual({ error: null, address: "93.184.216.34", family: 4 });
    expect(await call({ family: 6 })).toEqual({ error: null, address: "2606:2800:220:1::1", family: 6 });
    expect((await call({ all: true })).address).toEqual([
      { address: "93.184.216.34", family: 4 },
      { address: "2606:2800:220:1::1", family: 6 },
    ]);
  });

  it("fails rather than resolving again when no checked address fits", async () => {
    const only4 = pinnedLookup([{ address: "93.184.216.34", family: 4 }]);
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
      only4("api.example.com", { family: 6 }, (err) => resolve(err)),
    );
    expect(error?.code).toBe("ENOTFOUND");
  });
});
