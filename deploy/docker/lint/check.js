// scripts/container-lint's checks (node check.js <repository root>); every finding fails the run.
//
// 1. Dockerfile: dockerfile-utils' validator (the one behind VS Code's Docker support: instructions,
//    flags, arguments, durations, ports), warnings included; and what Parley's image promises:
//    exec-form ENTRYPOINT and HEALTHCHECK, a numeric non-root USER, the data directory a VOLUME,
//    every COPY source let through .dockerignore, every PARLEY_* name a configuration key.
// 2. deploy/compose.yaml: parsed as YAML (merge keys as compose reads them); the Parley services
//    are built from the Dockerfile, run the cluster profile, name themselves (cluster.host) by their
//    service name and list exactly each other as Hazelcast members, have distinct node ids, and
//    wait for healthy Kafka, Cassandra and Redis, which have healthchecks; every file it mounts
//    exists.
// 3. deploy/prometheus/prometheus.yml: job "parley" scrapes exactly the Parley services on their
//    admin port, and its rule files are mounted beside it; Grafana's provisioning points at the
//    compose file's Prometheus and at the folder the dashboard is mounted in.
'use strict';
const fs = require('fs');
const path = require('path');
const { DockerfileParser } = require('dockerfile-ast');
const dockerfileUtils = require('dockerfile-utils');
const YAML = require('yaml');

const root = path.resolve(process.argv[2] || '.');
const problems = [];
const fail = (where, what) => problems.push(`${where}: ${what}`);
const read = (p) => fs.readFileSync(path.join(root, p), 'utf8');

// PARLEY_* names the entrypoint and healthcheck read themselves (not configuration keys)
const SCRIPT_NAMES = new Set(['PARLEY_JAR', 'PARLEY_CDS', 'PARLEY_HEALTHCHECK_TIMEOUT_S', 'PARLEY_CONFIG_FILE']);
const baseKeys = Object.keys(JSON.parse(read('server/src/main/resources/conf/base.json')));
const envNames = new Set(baseKeys.map((k) => 'PARLEY_' + k.toUpperCase().replace(/\./g, '_')));
const checkName = (where, name) => {
  if (name.startsWith('PARLEY_') && !envNames.has(name) && !SCRIPT_NAMES.has(name)) {
    fail(where, `${name} is no configuration key's variable (ConfigLoader ignores it)`);
  }
};

// ---- 1. Dockerfile
const dockerfileText = read('Dockerfile');
for (const d of dockerfileUtils.validate(dockerfileText)) {
  fail(`Dockerfile:${d.range.start.line + 1}`, d.message);
}
const dockerfile = DockerfileParser.parse(dockerfileText);
const all = (kw) => dockerfile.getInstructions().filter((i) => i.getKeyword() === kw);
const last = (kw) => all(kw).pop();
const argDefaults = {};
for (const a of all('ARG')) {
  const [name, value] = a.getArgumentsContent().split('=');
  argDefaults[name] = value;
}
const expand = (s) => s.replace(/\$\{(\w+)\}/g, (_, n) => argDefaults[n] ?? '');
const env = {};
for (const e of all('ENV')) {
  for (const p of e.getProperties()) env[p.getName()] = p.getValue();
}
Object.keys(env).forEach((n) => checkName('Dockerfile ENV', n));

const from = last('FROM');
if (!from || !/^eclipse-temurin:17-jre/.test(expand(from.getArgumentsContent()))) {
  fail('Dockerfile', 'the documented default base is eclipse-temurin:17-jre (ARG BASE_IMAGE)');
}
const user = last('USER') && expand(last('USER').getArgumentsContent());
if (!user || !/^[1-9][0-9]*(:[1-9][0-9]*)?$/.test(user)) {
  fail('Dockerfile', `USER must be a numeric non-root uid (got ${user})`);
}
for (const kw of ['ENTRYPOINT']) {
  if (!last(kw) || !last(kw).getArgumentsContent().trim().startsWith('[')) fail('Dockerfile', `${kw} in exec form`);
}
const hc = last('HEALTHCHECK');
if (!hc || !/\bCMD\s+\[/.test(hc.getArgumentsContent())) fail('Dockerfile', 'HEALTHCHECK CMD in exec form');
const volumes = all('VOLUME').flatMap((v) => JSON.parse(v.getArgumentsContent()));
if (!volumes.includes(env.PARLEY_DATA_DIR)) {
  fail('Dockerfile', `the data directory (PARLEY_DATA_DIR=${env.PARLEY_DATA_DIR}) is not a VOLUME`);
}
const admitted = fs.readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n')
  .filter((l) => l.startsWith('!')).map((l) => l.slice(1).trim());
for (const c of all('COPY')) {
  const words = c.getArguments().map((a) => a.getValue());
  for (const src of words.slice(0, -1)) {
    if (src.startsWith('--')) continue;
    if (!admitted.includes(src)) fail('Dockerfile', `COPY ${src}: .dockerignore leaves it out of the build context`);
    if (!src.startsWith('target/') && !fs.existsSync(path.join(root, src))) fail('Dockerfile', `COPY ${src}: no such file`);
  }
}

// ---- 2. compose
const composePath = 'deploy/compose.yaml';
const composeDir = path.join(root, 'deploy');
const compose = YAML.parse(read(composePath), { merge: true });
const services = compose.services || {};
for (const s of ['kafka', 'cassandra', 'redis', 'prometheus', 'grafana']) {
  if (!services[s]) fail(composePath, `no service ${s}`);
}
const parley = Object.keys(services).filter((n) => services[n].build);
if (parley.length !== 3) fail(composePath, `three Parley nodes built from the Dockerfile, found ${parley.join(', ')}`);
const ids = new Set();
for (const name of parley) {
  const s = services[name];
  const where = `${composePath} ${name}`;
  const e = s.environment || {};
  if (Array.isArray(e)) fail(where, 'environment as a map (KEY: value)');
  Object.keys(e).forEach((n) => checkName(where, n));
  const context = path.resolve(composeDir, s.build.context || '.');
  if (path.join(context, s.build.dockerfile || 'Dockerfile') !== path.join(root, 'Dockerfile')) {
    fail(where, 'not built from the top-level Dockerfile');
  }
  if (e.PARLEY_PROFILE !== 'cluster') fail(where, 'PARLEY_PROFILE is not cluster');
  if (e.PARLEY_CLUSTER_HOST !== name) fail(where, `PARLEY_CLUSTER_HOST ${e.PARLEY_CLUSTER_HOST}, not its service name`);
  const port = String(e.PARLEY_CLUSTER_PORT || '5701');
  const members = String(e.PARLEY_CLUSTER_MEMBERS || '').split(',').map((m) => m.trim()).sort();
  const expected = parley.map((n) => `${n}:${port}`).sort();
  if (JSON.stringify(members) !== JSON.stringify(expected)) {
    fail(where, `PARLEY_CLUSTER_MEMBERS ${members} is not the Parley services ${expected}`);
  }
  if (ids.has(String(e.PARLEY_NODE_ID))) fail(where, `node id ${e.PARLEY_NODE_ID} used twice`);
  ids.add(String(e.PARLEY_NODE_ID));
  if (!e.PARLEY_JWT_SECRET) fail(where, 'no PARLEY_JWT_SECRET (the cluster profile requires one)');
  if (e.PARLEY_ADMIN_HOST !== '0.0.0.0') fail(where, 'PARLEY_ADMIN_HOST must be 0.0.0.0 for Prometheus to scrape it');
  for (const dep of ['kafka', 'cassandra', 'redis']) {
    const d = (s.depends_on || {})[dep];
    if (!d || d.condition !== 'service_healthy') fail(where, `does not wait for a healthy ${dep}`);
    if (services[dep] && !services[dep].healthcheck) fail(`${composePath} ${dep}`, 'no healthcheck to wait for');
  }
}
const mounts = {}; // service → [{ host, target }]
for (const [name, s] of Object.entries(services)) {
  for (const v of s.volumes || []) {
    const [host, target] = String(v).split(':');
    if (!host.startsWith('.')) continue; // a named volume
    if (!fs.existsSync(path.resolve(composeDir, host))) fail(`${composePath} ${name}`, `mounts ${host}, which does not exist`);
    (mounts[name] = mounts[name] || []).push({ host: path.resolve(composeDir, host), target });
  }
}

// ---- 3. Prometheus and Grafana
const promFile = path.join(root, 'deploy/prometheus/prometheus.yml');
if (fs.existsSync(promFile)) {
  const prom = YAML.parse(fs.readFileSync(promFile, 'utf8'));
  const job = (prom.scrape_configs || []).find((j) => j.job_name === 'parley');
  const targets = job ? job.static_configs.flatMap((c) => c.targets).sort() : [];
  const adminPort = (n) => String((services[n].environment || {}).PARLEY_ADMIN_PORT || '9464');
  const expected = parley.map((n) => `${n}:${adminPort(n)}`).sort();
  if (JSON.stringify(targets) !== JSON.stringify(expected)) {
    fail('deploy/prometheus/prometheus.yml', `job parley scrapes ${targets}, the compose file's nodes are ${expected}`);
  }
  const promMounts = mounts.prometheus || [];
  const configMount = promMounts.find((m) => m.host === promFile);
  if (!configMount) fail(composePath, 'prometheus does not mount deploy/prometheus/prometheus.yml');
  for (const rule of prom.rule_files || []) {
    const host = path.resolve(path.dirname(promFile), rule);
    const target = configMount && path.posix.join(path.posix.dirname(configMount.target), rule);
    if (!promMounts.some((m) => m.host === host && m.target === target)) {
      fail(composePath, `prometheus.yml's rule file ${rule} is not mounted at ${target}`);
    }
  }
} else {
  fail('deploy/prometheus/prometheus.yml', 'missing (the compose file mounts it)');
}
const grafanaMounts = mounts.grafana || [];
const provisioning = grafanaMounts.find((m) => m.target === '/etc/grafana/provisioning');
if (!provisioning) {
  fail(composePath, 'grafana does not mount deploy/grafana/provisioning at /etc/grafana/provisioning');
} else {
  const ds = YAML.parse(fs.readFileSync(path.join(provisioning.host, 'datasources/prometheus.yaml'), 'utf8'));
  const url = new URL(ds.datasources[0].url);
  if (!services[url.hostname]) fail('grafana datasource', `${url.hostname} is no compose service`);
  const boards = YAML.parse(fs.readFileSync(path.join(provisioning.host, 'dashboards/parley.yaml'), 'utf8'));
  const dir = boards.providers[0].options.path;
  const dashboards = grafanaMounts.filter((m) => path.posix.dirname(m.target) === dir && m.target.endsWith('.json'));
  if (dashboards.length === 0) fail('grafana provisioning', `no dashboard mounted in ${dir}`);
  for (const d of dashboards) {
    try {
      JSON.parse(fs.readFileSync(d.host, 'utf8'));
    } catch (e) {
      fail(`grafana dashboard ${d.host}`, e.message);
    }
  }
}

if (problems.length) {
  problems.forEach((p) => console.error(`container-lint: ${p}`));
  console.error(`container-lint: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`container-lint: Dockerfile, ${composePath} (${Object.keys(services).length} services), Prometheus and Grafana wiring OK`);
