// Command-line options of the bench scripts: `--kebab-case value` into the camelCase keys of
// `defaults`; a number where the default is a number, the string otherwise.

export function parseOptions(argv, defaults, usage) {
  const o = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(usage);
      process.exit(0);
    }
    const key = a.replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!a.startsWith('--') || !(key in o)) throw new Error(`unknown argument ${a}\n${usage}`);
    const raw = argv[++i];
    if (raw === undefined) throw new Error(`${a} needs a value`);
    if (typeof defaults[key] === 'number') {
      const v = Number(raw);
      if (!Number.isFinite(v) || v < 0) throw new Error(`${a} needs a number`);
      o[key] = v;
    } else {
      o[key] = raw;
    }
  }
  return o;
}
