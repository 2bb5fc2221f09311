#!/usr/bin/env node
// The Strata workflow from Node.js, through the gateway (strata.gateway.v1), with npm's
// @grpc/grpc-js and @grpc/proto-loader reading the repository's protos/ at run time:
// imports a root file system tarball, runs a container that changes a file, lists the diff,
// commits it with an author, a message and a CMD change, prints the history, runs the new
// image and checks its output.
//
//   cd examples/node && npm ci && node workflow.js --gateway unix:/run/strata/gateway.sock --rootfs busybox.tar
'use strict';

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

function flag(name, fallback) {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : fallback;
}
const gatewayAddress = flag('--gateway', process.env.STRATA_GATEWAY || 'unix:/run/strata/gateway.sock');
const rootfs = flag('--rootfs');
if (!rootfs) throw new Error('--rootfs FILE is required');

const protos = path.resolve(__dirname, '../../protos');
const definition = protoLoader.loadSync('strata/gateway/v1/gateway.proto', {
  includeDirs: [protos],
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});
const api = grpc.loadPackageDefinition(definition).strata;
const gateway = new api.gateway.v1.Gateway(gatewayAddress, grpc.credentials.createInsecure());

const unary = (method, request) =>
  new Promise((resolve, reject) =>
    gateway[method](request, (error, response) => (error ? reject(error) : resolve(response))));

// A server stream or a bidirectional one: collects every response until the end.
const collect = (call) =>
  new Promise((resolve, reject) => {
    const responses = [];
    call.on('data', (response) => responses.push(response));
    call.on('error', reject);
    call.on('end', () => resolve(responses));
  });

async function importTarball(file, tag) {
  const call = gateway.importImage();
  const done = collect(call);
  call.write({options: {tag, source: path.basename(file), size: fs.statSync(file).size}});
  for await (const chunk of fs.createReadStream(file, {highWaterMark: 1 << 20})) {
    call.write({data: chunk});
  }
  call.end();
  return (await done).find((response) => response.image).image;
}

async function run(image, cmd, remove) {
  const call = gateway.run();
  const done = collect(call);
  call.write({options: {image, remove, options: {cmd}}});
  // No input to send: half-close now (the gateway ends the call once the process exited).
  call.end();
  let container;
  let stdout = '';
  let exitCode;
  for (const response of await done) {
    if (response.container) container = response.container.id;
    if (response.output && response.output.stdout) stdout += response.output.stdout.toString();
    if (response.output && response.output.exit) exitCode = response.output.exit.exitCode;
  }
  return {container, stdout, exitCode};
}

async function main() {
  const suffix = Date.now().toString();
  const base = await importTarball(rootfs, `node-base:${suffix}`);
  console.log('imported', base.id);

  const changer = await run(base.id, ['sh', '-c', 'echo hello from node > /greeting'], false);
  if (changer.exitCode !== 0) throw new Error(`the change exited ${changer.exitCode}`);
  const letters = {ADDED: 'A', CHANGED: 'C', DELETED: 'D'};
  for (const batch of await collect(gateway.diff({container: changer.container}))) {
    for (const change of batch.changes) console.log(letters[change.kind], change.path);
  }

  const committed = await collect(gateway.commit({
    container: changer.container,
    tag: `node-app:${suffix}`,
    author: 'Node <node@example.com>',
    message: 'greeting from node',
    changes: ['CMD ["cat", "/greeting"]'],
  }));
  const image = committed.find((response) => response.image).image;
  console.log('committed', image.id);

  const history = await unary('history', {ref: image.id});
  for (const entry of history.entries) {
    console.log(entry.imageId.slice(7, 19) || '<missing>', entry.createdBy, '|', entry.author,
                '|', entry.comment);
  }
  if (history.entries[0].author !== 'Node <node@example.com>') throw new Error('author lost');
  if (history.entries[0].comment !== 'greeting from node') throw new Error('message lost');

  const result = await run(image.id, [], true);
  console.log('new image prints:', result.stdout.trim());
  if (result.stdout !== 'hello from node\n' || result.exitCode !== 0) {
    throw new Error(`unexpected output ${JSON.stringify(result)}`);
  }
  await unary('removeContainer', {container: changer.container, force: true});
  console.log('OK');
}

main().then(() => process.exit(0), (error) => {
  console.error('Error:', error.message);
  process.exit(1);
});
