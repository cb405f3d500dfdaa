import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import {
  cronFileName,
  formatProblems,
  wrapCrontab,
  type CrontabProblem,
  type WrapOptions,
} from "./crontab";

const ID = "gocardless_cron_production";
const REVISION = "279d9035886d4c0427549863c4c2101e4a63e041";
const HEADER = [
  `# Installed by conductor for ${ID} at revision ${REVISION}; do not edit, each deploy rewrites it.`,
  "SHELL=/bin/sh",
  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
];
const RUN = `/usr/local/bin/conductor run --id ${ID} --revision ${REVISION} --lock`;

const options = (overrides: Partial<WrapOptions> = {}): WrapOptions => ({
  serviceId: ID,
  revision: REVISION,
  allowOverlap: false,
  ...overrides,
});
const file = (...lines: string[]) => [...HEADER, ...lines, ""].join("\n");

function wrapped(input: string, overrides: Partial<WrapOptions> = {}): string {
  const result = wrapCrontab(input, options(overrides));
  if (!result.ok) throw new Error(formatProblems(result.problems));
  return result.file;
}

function problems(input: string): CrontabProblem[] {
  const result = wrapCrontab(input, options());
  if (result.ok) throw new Error(`expected problems, got:\n${result.file}`);
  return result.problems;
}

/** The one job line of a one-job input. */
const jobLine = (input: string) => wrapped(input).split("\n")[HEADER.length];

describe("wrapCrontab: a representative crontab, whole file", () => {
  it("wraps the example from the report brief", () => {
    const input = [
      "# expire tokens",
      "*/30 * * * * bin/rails runner 'ApiToken.expire!'",
      "MAILTO=ops@example.com",
      `@daily bin/report --date "$(date +\\%F)" > /tmp/report.log 2>&1`,
      "",
    ].join("\n");
    expect(wrapped(input)).toBe(
      file(
        "# expire tokens",
        `*/30 * * * *  root  ${RUN} -- /bin/sh -c 'bin/rails runner '\\''ApiToken.expire!'\\'''`,
        "MAILTO=ops@example.com",
        `@daily  root  ${RUN} -- /bin/sh -c 'bin/report --date "$(date +\\%F)" > /tmp/report.log 2>&1'`,
      ),
    );
  });

  it("keeps comments, blank lines and env lines in place and forwards app variables", () => {
    const input = [
      "# nightly jobs",
      "",
      "RAILS_ENV = production",
      "   # indented comment",
      "\t ",
      "0 3 * * *\tbin/rake db:vacuum",
      'GREETING="hello world"',
      "@hourly echo $GREETING",
    ].join("\n");
    expect(wrapped(input)).toBe(
      file(
        "# nightly jobs",
        "",
        "RAILS_ENV = production",
        "   # indented comment",
        "\t ",
        `0 3 * * *  root  ${RUN} --env RAILS_ENV -- /bin/sh -c 'bin/rake db:vacuum'`,
        'GREETING="hello world"',
        `@hourly  root  ${RUN} --env RAILS_ENV --env GREETING -- /bin/sh -c 'echo $GREETING'`,
      ),
    );
  });

  it("returns each job with its line, schedule and command exactly as given", () => {
    const result = wrapCrontab(
      "# c\n*/5\t*  * * *   echo hi  \r\n@reboot bin/warm %x\n",
      options(),
    );
    expect(result).toMatchObject({
      ok: true,
      jobs: [
        { line: 2, schedule: "*/5 * * * *", command: "echo hi  " },
        { line: 3, schedule: "@reboot", command: "bin/warm %x" },
      ],
    });
  });

  it("gives just the header for an empty input, and keeps a crontab of comments as it is", () => {
    expect(wrapped("")).toBe(file());
    expect(wrapped("\n")).toBe(file(""));
    expect(wrapped("# nothing to run\n# yet\n")).toBe(file("# nothing to run", "# yet"));
  });

  it("reads CRLF like LF, and a last line without a newline", () => {
    const lf = "# a\nFOO=bar\n* * * * * echo 'x'\n";
    expect(wrapped(lf.replace(/\n/g, "\r\n"))).toBe(wrapped(lf));
    expect(wrapped(lf.trimEnd())).toBe(wrapped(lf));
  });
});

describe("schedules cron accepts", () => {
  it.each([
    ["every minute", "* * * * *"],
    ["steps", "*/15 */2 */3 */4 */2"],
    ["lists", "0,15,30,45 8,12 1,15 1,7 1,3,5"],
    ["ranges", "0-59 0-23 1-31 1-12 0-7"],
    ["ranges with steps", "0-59/7 9-17/2 1-31/10 1-12/3 1-5/2"],
    ["lists of ranges and steps", "1-5/2,*/7,30 * * * *"],
    ["month and day names, any case", "0 0 * jan,FEB,Mar-dec mon-fri"],
    ["day names with a step", "0 0 * * Sun-Sat/2"],
    ["Sunday as 0, 7 and a name", "0 0 * * 0,7,sun"],
    ["a range up to 7", "0 0 * * sat-7"],
    ["a step larger than the range (runs once)", "*/100 * * * *"],
    ["repeated values", "*/5,*/7 0,0 * * *"],
    ["a day some months lack (cron accepts it)", "0 0 31 4 *"],
    ["leading zeros", "05 09 01 01 00"],
    ["every macro", "@reboot"],
    ["@yearly", "@yearly"],
    ["@annually", "@annually"],
    ["@monthly", "@monthly"],
    ["@weekly", "@weekly"],
    ["@daily", "@daily"],
    ["@midnight", "@midnight"],
    ["@hourly", "@hourly"],
  ])("%s: %s", (_name, schedule) => {
    expect(jobLine(`${schedule} bin/job`)).toBe(
      `${schedule}  root  ${RUN} -- /bin/sh -c 'bin/job'`,
    );
  });

  it("normalises blanks between fields to one space and drops leading blanks", () => {
    expect(jobLine("  \t*/5\t \t1  *\t* *\t  bin/job")).toBe(
      `*/5 1 * * *  root  ${RUN} -- /bin/sh -c 'bin/job'`,
    );
  });
});

describe("schedules cron rejects, or that are not cron's", () => {
  it.each([
    [
      "a minute of 60",
      "60 * * * *",
      'bad minute "60": Constraint error, got value 60 expected range 0-59',
    ],
    [
      "an hour of 24",
      "* 24 * * *",
      'bad hour "24": Constraint error, got value 24 expected range 0-23',
    ],
    [
      "day of month 0",
      "* * 0 * *",
      'bad day-of-month "0": Constraint error, got value 0 expected range 1-31',
    ],
    [
      "month 13",
      "* * * 13 *",
      'bad month "13": Constraint error, got value 13 expected range 1-12',
    ],
    [
      "day of week 8",
      "* * * * 8",
      'bad day-of-week "8": Constraint error, got value 8 expected range 0-7',
    ],
    [
      "a step of 0",
      "*/0 * * * *",
      'bad minute "*/0": Constraint error, cannot repeat at every 0 time.',
    ],
    ["a reversed range", "5-1 * * * *", 'bad minute "5-1": Invalid range: 5-1, min(5) > max(1)'],
    [
      "a reversed range of names",
      "* * * * sat-sun",
      'bad day-of-week "sat-sun": Invalid range: 6-0, min(6) > max(0)',
    ],
    [
      "a step on a single value",
      "5/15 * * * *",
      'bad minute "5/15": a step needs a range or * before it: cron rejects 5/15, write 5-<last>/15',
    ],
    [
      "a step on a name",
      "* * * * mon/2",
      'bad day-of-week "mon/2": a step needs a range or * before it: cron rejects mon/2, write mon-<last>/2',
    ],
    ["a full month name", "* * * january *", `bad month "january": ${notCron("january")}`],
    [
      "a day name in the month field",
      "* * * mon *",
      'bad month "mon": Validation error, cannot resolve alias "mon"',
    ],
    [
      "a name in the day-of-month field",
      "* * jan * *",
      'bad day-of-month "jan": names are only for month and day of week',
    ],
    ["Quartz L", "* * L * *", `bad day-of-month "L": ${notCron("L")}`],
    ["Quartz W", "* * 15W * *", `bad day-of-month "15W": ${notCron("15W")}`],
    ["Quartz ?", "* * ? * *", `bad day-of-month "?": ${notCron("?")}`],
    ["Quartz 5L", "* * * * 5L", `bad day-of-week "5L": ${notCron("5L")}`],
    ["Quartz #", "* * * * 1#2", `bad day-of-week "1#2": ${notCron("1#2")}`],
    ["Jenkins H", "H * * * *", `bad minute "H": ${notCron("H")}`],
    ["a random ~ range", "0~30 * * * *", `bad minute "0~30": ${notCron("0~30")}`],
    ["junk after * (Vixie ignores it)", "*5 * * * *", `bad minute "*5": ${notCron("*5")}`],
    ["an empty list item", "1,,2 * * * *", 'bad minute "1,,2": an empty list item'],
    ["a trailing comma", "1, * * * *", 'bad minute "1,": an empty list item'],
    ["a four-digit number", "0005 * * * *", `bad minute "0005": ${notCron("0005")}`],
    [
      "several bad fields",
      "60 24 * * 8",
      'bad minute "60": Constraint error, got value 60 expected range 0-59; bad hour "24": Constraint error, got value 24 expected range 0-23; bad day-of-week "8": Constraint error, got value 8 expected range 0-7',
    ],
  ])("%s: %s", (_name, schedule, reason) => {
    expect(problems(`${schedule} bin/job`)).toEqual([
      { line: 1, text: `${schedule} bin/job`, reason },
    ]);
  });

  it.each([
    ["too few fields", "* * * echo", "expected five time fields and a command, found 4 field(s)"],
    ["no command", "* * * * *", "no command after the schedule"],
    ["no command, trailing blanks", "* * * * *  \t", "no command after the schedule"],
    ["a macro without command", "@daily", "no command after the schedule"],
    [
      "a seconds field",
      "0 */5 * * * * bin/job",
      "the command starts with `*`: cron has five time fields, no seconds or year field",
    ],
    [
      "an unknown macro",
      "@every bin/job",
      "unknown schedule @every: cron knows @reboot @yearly @annually @monthly @weekly @daily @midnight @hourly",
    ],
    [
      "a macro in capitals",
      "@DAILY bin/job",
      "unknown schedule @DAILY: cron knows @reboot @yearly @annually @monthly @weekly @daily @midnight @hourly",
    ],
    [
      "only stdin",
      "* * * * * %input",
      "no command before the first % (what follows it is the job's input)",
    ],
    ["a NUL byte", "* * * * * echo \0", "contains a NUL byte, which cron cannot read"],
  ])("%s", (_name, line, reason) => {
    expect(problems(line)).toEqual([{ line: 1, text: line, reason }]);
  });
});

const NOT_A_LINE =
  "neither a comment, an environment setting (NAME=value) nor a job (five time fields or an @ schedule, then a command)";

// Vixie cron's get_range (entry.c, the same in cronie) for one list item: the reference for what
// cron accepts. Debian's cron is laxer still (it ignores junk after a value and takes 5-1).
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const LIMITS: [low: number, high: number, names: string[]][] = [
  [0, 59, []],
  [0, 23, []],
  [1, 31, []],
  [1, 12, MONTHS],
  [0, 7, DAYS],
];

function cronAcceptsItem(item: string, field: number): boolean {
  const [low, high, names] = LIMITS[field];
  const m = /^(?:(\*)|(\d+|[A-Za-z]+)(?:-(\d+|[A-Za-z]+))?)(?:\/(\d+))?$/.exec(item);
  if (!m) return false;
  const [, star, a, b, step] = m;
  if (!star && b === undefined && step !== undefined) return false; // a lone value ends at , - or blank
  const value = (s: string) =>
    /^\d+$/.test(s)
      ? Number(s)
      : names.includes(s.toLowerCase())
        ? names.indexOf(s.toLowerCase()) + low
        : NaN;
  const first = star ? low : value(a);
  const last = star ? high : b === undefined ? first : value(b);
  const by = step === undefined ? 1 : Number(step);
  if (!(first <= last) || by === 0) return false;
  for (let i = first; i <= last; i += by) if (i < low || i > high) return false;
  return true;
}

describe("schedule items: the pre-check and cron-parser against cron's own parser", () => {
  it("accepts no item cron rejects, and rejects only ranges that run past the field", () => {
    const accepted = (item: string, field: number) => {
      const fields = ["*", "*", "*", "*", "*"].map((w, i) => (i === field ? item : w));
      return wrapCrontab(`${fields.join(" ")} x`, options()).ok;
    };
    const stricter: [string, number][] = [];
    for (const [field, [low, high, names]] of LIMITS.entries()) {
      const values = [low - 1, low, 7, high, high + 1]
        .map(String)
        .concat("00", ...names.slice(0, 2), "Sat", "Dec", "foo");
      const steps = ["0", "1", "7", "60", "100"];
      const singles = ["*", ...values];
      const ranges = values.flatMap((a) => values.map((b) => `${a}-${b}`));
      const stepped = ["*", ...values, ...ranges].flatMap((i) =>
        steps.map((step) => `${i}/${step}`),
      );
      for (const item of [...singles, ...ranges, ...stepped]) {
        const ours = accepted(item, field);
        const cron = cronAcceptsItem(item, field);
        if (ours && !cron)
          throw new Error(`accepted ${item} in field ${field}, which cron rejects`);
        if (cron && !ours) stricter.push([item, field]);
      }
    }
    // e.g. 0-60/7 in minutes: cron never reaches 60 so it lets it pass; cron-parser refuses 60.
    const pastTheField = ([item, field]: [string, number]) => {
      const range = /^(\w+-\w+)\/\d+$/.exec(item);
      return range !== null && !cronAcceptsItem(range[1], field);
    };
    expect(stricter.filter((entry) => !pastTheField(entry))).toEqual([]);
    expect(stricter.length).toBeGreaterThan(0);
  });
});

function notCron(item: string): string {
  return `${JSON.stringify(item)} is not cron syntax (cron has lists, ranges, steps, * and three-letter names; no L, W, ?, #, H or seconds)`;
}

describe("environment lines: cron's load_env decides", () => {
  // Each was also checked with Debian's `crontab -n` (cron 3.0pl1-162).
  it.each([
    ["plain", "FOO=bar"],
    ["blanks around =", "FOO = bar"],
    ["leading blanks", "  FOO = bar"],
    ["tabs", "FOO\t=\tbar"],
    ["single-quoted value", "FOO='a b'"],
    ["double-quoted value with a quote inside", `FOO="it's"`],
    ["empty value in quotes", 'FOO=""'],
    ["quoted name", "'FOO'=bar"],
    ["a value with blanks and =", "FOO=1 BAR=2"],
    ["a # in the value (not a comment)", "FOO=bar # baz"],
    ["trailing blanks after a quoted value", "FOO='a b'   "],
  ])("%s: %s is kept and passed to the job", (_name, line) => {
    expect(wrapped(`${line}\n* * * * * env\n`)).toBe(
      file(line, `* * * * *  root  ${RUN} --env FOO -- /bin/sh -c 'env'`),
    );
  });

  it("reads `* * * * * FOO=bar cmd` as a job, not a setting", () => {
    expect(jobLine("* * * * * FOO=bar cmd")).toBe(
      `* * * * *  root  ${RUN} -- /bin/sh -c 'FOO=bar cmd'`,
    );
  });

  it("does not pass cron's own settings to the container", () => {
    const settings = [
      "MAILTO=ops@example.com",
      "CRON_TZ=UTC",
      "RANDOM_DELAY=5",
      "TZ=Europe/London",
    ];
    expect(wrapped(`${settings.join("\n")}\n@daily date\n`)).toBe(
      file(...settings, `@daily  root  ${RUN} --env TZ -- /bin/sh -c 'date'`),
    );
  });

  it("passes each name once, and only to the jobs after it", () => {
    const input = "A=1\n@daily one\nB=2\nA=3\n@daily two\n";
    expect(wrapped(input)).toBe(
      file(
        "A=1",
        `@daily  root  ${RUN} --env A -- /bin/sh -c 'one'`,
        "B=2",
        "A=3",
        `@daily  root  ${RUN} --env A --env B -- /bin/sh -c 'two'`,
      ),
    );
  });

  it("runs jobs in the container with the crontab's SHELL", () => {
    expect(wrapped("SHELL=/bin/bash\n@daily echo {a,b}\n")).toBe(
      file("SHELL=/bin/bash", `@daily  root  ${RUN} -- /bin/bash -c 'echo {a,b}'`),
    );
  });

  const NOT_ENV =
    'not an environment setting as cron reads it: NAME=value, a quoted value must end the line, and an empty value is written NAME=""';
  it.each([
    ["an empty unquoted value (Debian rejects it)", "FOO=", NOT_ENV],
    ["blanks and no value", "FOO =", NOT_ENV],
    ["text after a quoted value", 'FOO="a b" c', NOT_ENV],
    ["an unterminated quote", "FOO='a", NOT_ENV],
    ["a quote left open in the name", '"FOO=bar', NOT_ENV],
    ["a blank in an unquoted name", "FOO BAR=baz", NOT_A_LINE],
    [
      "a name the container cannot take",
      '"FOO BAR"=baz',
      'environment name "FOO BAR" cannot be passed to the job\'s container: use letters, digits and _, not starting with a digit',
    ],
    [
      "an empty name",
      "=bar",
      'environment name "" cannot be passed to the job\'s container: use letters, digits and _, not starting with a digit',
    ],
    [
      "a SHELL that is not an absolute path",
      "SHELL=bash",
      "SHELL must be an absolute path such as /bin/bash: cron runs each line with it on the host, and conductor runs the job with it in the container",
    ],
  ])("%s: %s", (_name, line, reason) => {
    expect(problems(line)).toEqual([{ line: 1, text: line, reason }]);
  });
});

describe("commands: kept byte for byte, quoted as one word, % keeps cron's meaning", () => {
  it.each([
    ["plain words", "bin/rake cleanup", `'bin/rake cleanup'`],
    ["single quotes", "echo 'a b'", `'echo '\\''a b'\\'''`],
    ["double quotes and $", `echo "$HOME" $PATH`, `'echo "$HOME" $PATH'`],
    [
      "shell operators stay for the container's shell",
      "cd /app && bin/x | wc -l > /tmp/n 2>&1; true",
      `'cd /app && bin/x | wc -l > /tmp/n 2>&1; true'`,
    ],
    ["backticks and globs", "echo `date` *.log", "'echo `date` *.log'"],
    ["a command starting with -", "-x --flag", `'-x --flag'`],
    ["trailing blanks are kept", "echo hi   ", `'echo hi   '`],
    ["an escaped %", "date +\\%Y-\\%m-\\%d", `'date +\\%Y-\\%m-\\%d'`],
    ["\\% inside single quotes", "printf '\\%s\\n' x", `'printf '\\''\\%s\\n'\\'' x'`],
    ["stdin after the first %", "cat %line one%line two", `'cat '%line one%line two`],
    [
      "stdin with its own escapes, untouched",
      "mail -s hi ops %a\\%b\\\\%c",
      `'mail -s hi ops '%a\\%b\\\\%c`,
    ],
    ["three backslashes then % (a literal % everywhere)", "echo a\\\\\\%b", `'echo a\\\\\\%b'`],
    ["other backslashes", "grep -E '\\.log$' x\\ y", `'grep -E '\\''\\.log$'\\'' x\\ y'`],
    ["a trailing backslash", "echo a\\", `'echo a\\'`],
    ["a # inside a command", "echo a # not a comment", `'echo a # not a comment'`],
  ])("%s: %s", (_name, command, quoted) => {
    expect(jobLine(`@daily ${command}`)).toBe(`@daily  root  ${RUN} -- /bin/sh -c ${quoted}`);
  });

  it("refuses a % after an even run of backslashes, where cron flavours disagree", () => {
    expect(problems("@daily echo a\\\\%b")).toEqual([
      {
        line: 1,
        text: "@daily echo a\\\\%b",
        reason:
          "\\\\%: cron implementations disagree on whether this % starts the job's input; use \\% for a literal % or move the command into a script",
      },
    ]);
  });

  it("refuses a command cron would cut: Debian skips the whole file past 998 bytes", () => {
    const prefix = `${RUN} -- /bin/sh -c ''`;
    const fits = "x".repeat(998 - prefix.length);
    expect(jobLine(`@daily ${fits}`)).toHaveLength("@daily  root  ".length + 998);
    expect(problems(`@daily ${fits}y`)).toEqual([
      {
        line: 1,
        text: `@daily ${fits}y`,
        reason:
          "wrapped, the command is 999 bytes and cron reads at most 998: move it into a script in the image",
      },
    ]);
  });

  it("counts bytes, not characters, against that limit", () => {
    const prefix = `${RUN} -- /bin/sh -c ''`;
    const chars = "é".repeat(Math.ceil((998 - prefix.length) / 2) + 1);
    expect(problems(`@daily ${chars}`)[0].reason).toMatch(/^wrapped, the command is \d+ bytes/);
  });

  it("refuses an environment line cron would cut", () => {
    const line = `FOO=${"x".repeat(995)}`;
    expect(problems(line)).toEqual([
      { line: 1, text: line, reason: "longer than 998 bytes: cron would silently cut the value" },
    ]);
  });
});

describe("reporting", () => {
  it("reports every invalid line at once, with its 1-based number and text", () => {
    const input = [
      "# fine",
      "* * * echo",
      "*/0 * * * * bin/a",
      "FOO=",
      "@daily bin/ok",
      "not a crontab line",
      "@weekly",
      "",
    ].join("\r\n");
    expect(problems(input)).toEqual([
      {
        line: 2,
        text: "* * * echo",
        reason: "expected five time fields and a command, found 4 field(s)",
      },
      {
        line: 3,
        text: "*/0 * * * * bin/a",
        reason: 'bad minute "*/0": Constraint error, cannot repeat at every 0 time.',
      },
      {
        line: 4,
        text: "FOO=",
        reason:
          'not an environment setting as cron reads it: NAME=value, a quoted value must end the line, and an empty value is written NAME=""',
      },
      { line: 6, text: "not a crontab line", reason: NOT_A_LINE },
      { line: 7, text: "@weekly", reason: "no command after the schedule" },
    ]);
  });

  it("formats problems one a line, control characters escaped", () => {
    expect(
      formatProblems([
        {
          line: 3,
          text: "* * *  echo",
          reason: "expected five time fields and a command, found 4 field(s)",
        },
        { line: 9, text: "@daily echo \0", reason: "contains a NUL byte, which cron cannot read" },
      ]),
    ).toBe(
      [
        "generate-cron output, line 3: `* * *  echo` : expected five time fields and a command, found 4 field(s)",
        "generate-cron output, line 9: `@daily echo \\x00` : contains a NUL byte, which cron cannot read",
      ].join("\n"),
    );
  });
});

describe("options", () => {
  it("leaves out --lock when overlapping runs are allowed, and takes another path and user", () => {
    expect(
      wrapped("@daily bin/job\n", {
        allowOverlap: true,
        conductorPath: "/opt/conductor/bin/conductor",
        user: "deploy",
      }),
    ).toBe(
      file(
        `@daily  deploy  /opt/conductor/bin/conductor run --id ${ID} --revision ${REVISION} -- /bin/sh -c 'bin/job'`,
      ),
    );
  });

  it.each([
    ["serviceId", { serviceId: "Bad.Id" }],
    ["revision", { revision: "279D903" }],
    ["revision", { revision: "abc" }],
    ["conductorPath", { conductorPath: "conductor" }],
    ["conductorPath", { conductorPath: "/usr/bin/con ductor" }],
    ["user", { user: "root root" }],
  ])("throws on a bad %s (config validates them first)", (name, overrides) => {
    expect(() => wrapCrontab("", options(overrides))).toThrow(`wrapCrontab: ${name} `);
  });
});

describe("cronFileName", () => {
  it("is conductor-<id>, a name Debian's run-parts accepts (no dots)", () => {
    expect(cronFileName(ID)).toBe("conductor-gocardless_cron_production");
    expect(cronFileName("a-b_c-1")).toMatch(/^[a-zA-Z0-9_-]+$/);
  });
});

// ---------------------------------------------------------------------------------------------
// Models of how cron splits a command line at `%` before running `$SHELL -c <command>` with the
// rest as stdin (child_process in do_command.c). They differ on backslashes, which is why the
// wrapper never rewrites a backslash.

interface CronSplit {
  command: string;
  rest?: string;
}

/** Vixie cron and cronie (do_command.c): `\%` is `%`, any other `\x` stays as it is. */
function vixieSplit(raw: string, collapseBackslashes = false): CronSplit {
  let command = "";
  let escaped = false;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (escaped) {
      const replacesEscape = ch === "%" || (collapseBackslashes && ch === "\\");
      command = replacesEscape ? command.slice(0, -1) + ch : command + ch;
      escaped = false;
    } else if (ch === "%") {
      return { command, rest: raw.slice(i + 1) };
    } else {
      command += ch;
      escaped = ch === "\\";
    }
  }
  return { command };
}

/** Debian's cron 3.0pl1 also turns `\\` into `\` (seen with `echo a\\b` printing `ab`). */
const debianSplit = (raw: string) => vixieSplit(raw, true);

/** NetBSD's cron (do_command.c 1.12): a backslash run never lets the `%` after it end the command. */
function netbsdSplit(raw: string): CronSplit {
  let command = "";
  let escaped = false;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (escaped && ch !== "%") command += "\\";
    if (!escaped && ch === "%") return { command, rest: raw.slice(i + 1) };
    escaped = ch === "\\";
    if (!escaped) command += ch;
  }
  return { command: escaped ? `${command}\\` : command };
}

const CRONS = { vixie: vixieSplit, debian: debianSplit, netbsd: netbsdSplit };

describe("cron models (fixtures from Debian cron 3.0pl1-162 run in a private namespace)", () => {
  it.each([
    ["echo a\\\\b", { command: "echo a\\b" }],
    ["echo q\\\\%r", { command: "echo q\\", rest: "r" }],
    ["cat %one%two\\%three", { command: "cat ", rest: "one%two\\%three" }],
  ])("debian splits %s", (raw, split) => {
    expect(debianSplit(raw)).toEqual(split);
  });
});

// What this does not prove: the cron models are transcriptions, and `sh -c` here is this machine's
// /bin/sh. testdata/crontab/debian-cron-check.sh runs a corpus under real Debian cron by hand.
describe("property: in the container, a wrapped job means what the original line meant", () => {
  let dir: string;
  let printArgs: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "crontab-test-"));
    printArgs = path.join(dir, "print-args");
    fs.writeFileSync(printArgs, `#!/bin/sh\nfor a; do printf '%s\\0' "$a"; done\n`, {
      mode: 0o755,
    });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The words `sh -c` makes of a command line cron hands it, with conductor printing its argv. */
  function shellWords(commandLine: string): string[] {
    const result = spawnSync("/bin/sh", ["-c", commandLine], { encoding: "utf8" });
    expect(result.status).toBe(0);
    return result.stdout.split("\0").slice(0, -1);
  }

  // Pieces, not characters, so that backslash runs before a % come up often.
  const PIECES = [
    "a",
    " ",
    "\t",
    "\\",
    "\\\\",
    "\\%",
    "\\\\%",
    "%",
    "'",
    '"',
    "$x",
    "*",
    "#",
    "`",
    ";",
    "|",
    ">",
    "-",
    "é",
  ];
  const command = fc
    .tuple(
      fc.constantFrom("a", "'", '"', "\\", "$", "-", "é"),
      fc.string({ unit: fc.constantFrom(...PIECES), maxLength: 12 }),
    )
    .map(([first, rest]) => first + rest);
  const schedule = fc.constantFrom("* * * * *", "*/5 1-5 * jan-mar mon,7", "@daily", "@reboot");

  it("gives the container's shell cron's command text and the job the same stdin, or refuses", () => {
    const seen = { refused: 0, withInput: 0, plain: 0 };
    fc.assert(
      fc.property(schedule, command, (sched, cmd) => {
        const result = wrapCrontab(`${sched}\t${cmd}\n`, options({ conductorPath: printArgs }));
        const boundaries = new Set(Object.values(CRONS).map((split) => split(cmd).rest));
        if (!result.ok) {
          // The only refusal possible here: cron flavours disagree on where the command ends.
          expect(result.problems[0].reason).toMatch(/cron implementations disagree/);
          expect(boundaries.size).toBeGreaterThan(1);
          seen.refused++;
          return;
        }
        seen[vixieSplit(cmd).rest === undefined ? "plain" : "withInput"]++;
        expect(result.jobs).toEqual([{ line: 1, schedule: sched, command: cmd }]);
        const line = result.file.split("\n")[HEADER.length];
        const cronCommand = line.slice(`${sched}  root  `.length);
        for (const split of Object.values(CRONS)) {
          const original = split(cmd);
          const wrappedSplit = split(cronCommand);
          expect(wrappedSplit.rest).toBe(original.rest);
          expect(shellWords(wrappedSplit.command)).toEqual([
            ...["run", "--id", ID, "--revision", REVISION, "--lock", "--", "/bin/sh", "-c"],
            original.command,
          ]);
        }
      }),
      { numRuns: 100 },
    );
    // Not vacuous: each kind of case came up.
    expect(Math.min(seen.refused, seen.withInput, seen.plain)).toBeGreaterThan(0);
  });

  it("keeps the command's bytes: the line ends with the quoted text before the first %, then the rest as given", () => {
    fc.assert(
      fc.property(schedule, command, (sched, cmd) => {
        const result = wrapCrontab(`${sched} ${cmd}`, options());
        fc.pre(result.ok);
        if (!result.ok) return;
        const line = result.file.split("\n")[HEADER.length];
        const rest = vixieSplit(cmd).rest;
        const cut = rest === undefined ? cmd.length : cmd.length - rest.length - 1;
        const quoted = `'${cmd.slice(0, cut).replace(/'/g, "'\\''")}'`;
        expect(line).toBe(`${sched}  root  ${RUN} -- /bin/sh -c ${quoted}${cmd.slice(cut)}`);
      }),
    );
  });
});
