// Releases from `pulumi stack history --json --show-secrets`, as the file
// backend writes it (its shape checked by hand with Pulumi 3.248), and the
// table of `npx conductor releases`.
import { fleet, REV } from "./fixtures.testutil";
import { parseHistory, previousRelease, releasesOf } from "./history";
import { formatReleases, imagesWhere } from "./releases";

/** One entry of the history, as Pulumi prints it. */
function update(
  version: number,
  revision: string | undefined,
  result = "succeeded",
  extra: object = {},
) {
  const services = {
    web: { image: "app", env: { TOKEN: "s3cr3t" } },
    worker: { image: "app", revision: REV.a },
  };
  return {
    version,
    kind: "update",
    startTime: `2025-06-0${version}T10:00:00.000Z`,
    endTime: `2025-06-0${version}T10:01:00.000Z`,
    result,
    config: {
      ...(revision ? { "conductor:revision": { value: revision, secret: false } } : {}),
      "conductor:services": {
        value: JSON.stringify(services),
        objectValue: services,
        secret: true,
      },
    },
    ...extra,
  };
}

const history = (...updates: object[]) => JSON.stringify(updates);

describe("parseHistory", () => {
  it("keeps the revision, the services and their own revisions, nothing of their env", () => {
    const [u] = parseHistory(history(update(3, REV.c)));
    expect(u).toStrictEqual({
      version: 3,
      kind: "update",
      result: "succeeded",
      startTime: "2025-06-03T10:00:00.000Z",
      endTime: "2025-06-03T10:01:00.000Z",
      revision: REV.c,
      services: [{ name: "web" }, { name: "worker", revision: REV.a }],
    });
    expect(JSON.stringify(u)).not.toContain("s3cr3t");
  });

  it("reads a services value without objectValue, and one hidden as a secret", () => {
    const plain = update(1, REV.a);
    delete (plain.config["conductor:services"] as { objectValue?: unknown }).objectValue;
    const hidden = update(2, REV.b);
    hidden.config["conductor:services"] = { secret: true } as never;
    expect(
      parseHistory(history(hidden, plain)).map((u) => u.services.map((s) => s.name)),
    ).toStrictEqual([[], ["web", "worker"]]);
  });

  it("numbers the updates from the oldest where the backend records no version (the file backend)", () => {
    const updates = [update(3, REV.c), update(2, REV.b), update(1, REV.a)].map((u) => ({
      ...u,
      version: 0,
    }));
    expect(parseHistory(history(...updates)).map((u) => u.version)).toStrictEqual([3, 2, 1]);
    expect(previousRelease(releasesOf(parseHistory(history(...updates))))?.revision).toBe(REV.b);
  });

  it("takes an empty history", () => {
    expect(parseHistory("[]")).toStrictEqual([]);
    expect(parseHistory("null")).toStrictEqual([]);
  });
});

describe("releasesOf and previousRelease", () => {
  const updates = parseHistory(
    history(
      update(6, REV.c, "failed"),
      update(5, REV.b),
      { ...update(4, REV.b), kind: "refresh" },
      update(3, REV.c),
      update(2, REV.b, "failed"),
      update(1, REV.a),
    ),
  );

  it("one release per revision, newest first; current is the newest that succeeded", () => {
    expect(
      releasesOf(updates).map((r) => [
        r.revision,
        r.current,
        r.succeeded,
        r.versions,
        r.last.result,
      ]),
    ).toStrictEqual([
      [REV.c, false, true, [6, 3], "failed"],
      [REV.b, true, true, [5, 2], "succeeded"],
      [REV.a, false, true, [1], "succeeded"],
    ]);
  });

  it("goes back to the newest successful revision before the current one", () => {
    expect(previousRelease(releasesOf(updates))?.revision).toBe(REV.c);
    expect(previousRelease(releasesOf(updates.slice(-2)))).toBeUndefined(); // b failed: nothing before a
  });
});

describe("formatReleases", () => {
  it("marks the current one and says where images are missing", () => {
    const releases = releasesOf(
      parseHistory(history(update(3, REV.c), update(2, REV.b), update(1, REV.a))),
    );
    const images = [
      { host: "h1", ok: true as const, value: { "registry.example.com/shop/app": [REV.b, REV.c] } },
      {
        host: "h2",
        ok: true as const,
        value: { "registry.example.com/shop/app": [REV.a, REV.b, REV.c] },
      },
    ];
    const f = fleet();
    const pinned = { worker: REV.a };
    expect(
      formatReleases("production", releases, (rev) => imagesWhere(f, pinned, rev, images)),
    ).toBe(
      [
        "   REVISION  DEPLOYED              UPDATE  RESULT     SERVICES             IMAGES",
        "*  ccccccc   2025-06-03 10:01:00Z  3       succeeded  web, worker@aaaaaaa  on every host",
        "   bbbbbbb   2025-06-02 10:01:00Z  2       succeeded  web, worker@aaaaaaa  on every host",
        "   aaaaaaa   2025-06-01 10:01:00Z  1       succeeded  web, worker@aaaaaaa  missing on h1",
        "",
        "* deployed now. Services shown as name@sha set their own revision.",
        "npx conductor rollback --stack production deploys bbbbbbb, the previous successful revision.",
        "",
      ].join("\n"),
    );
  });

  it("says which hosts it could not ask", () => {
    const images = [
      { host: "h1", ok: true as const, value: { "registry.example.com/shop/app": [REV.c] } },
      { host: "h2", ok: false as const, error: "refused" },
    ];
    expect(imagesWhere(fleet(), {}, REV.c, images)).toBe("h2 not reached");
    expect(imagesWhere(fleet(), {}, REV.a, images)).toBe("missing on h1; h2 not reached");
  });

  it("says so when there is no deploy yet", () => {
    expect(formatReleases("production", [], () => "")).toBe(
      "no deploys of stack production in its history\n",
    );
  });
});
