// A grpc.health.v1 client for the image test, the same check kubelet's grpc probes make.
//
//   node health/check.mjs serving HOST:PORT SECONDS
//     waits (up to SECONDS) until Check for service "" answers SERVING; exits 0 then, 1 otherwise.
//   node health/check.mjs drain HOST:PORT SECONDS COMMAND [ARGS...]
//     watches service "" and, once it is SERVING, runs COMMAND (which should send SIGTERM to the
//     server); exits 0 when the server then reports NOT_SERVING before the stream ends, 1 otherwise.
//     The Watch stays open after NOT_SERVING, as a call in flight through the drain (like a
//     client's WatchGroup stream), until the server ends it.
//
// The proto comes from Debian's grpc-proto package.
import { spawnSync } from 'node:child_process';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const HEALTH_PROTO = '/usr/share/grpc-proto/grpc/health/v1/health.proto';

function healthClient(address) {
  const definition = protoLoader.loadSync(HEALTH_PROTO, { keepCase: true, enums: String });
  const { Health } = grpc.loadPackageDefinition(definition).grpc.health.v1;
  return new Health(address, grpc.credentials.createInsecure());
}

function fail(message) {
  console.error(`health: ${message}`);
  process.exit(1);
}

// Check with waitForReady: the call waits for the server to come up until the deadline, without
// polling on a timer.
function waitServing(client, deadline) {
  return new Promise((resolve) => {
    client.Check({ service: '' }, { deadline, waitForReady: true }, (error, response) => {
      resolve(error ? `error ${error.code} ${error.details}` : response.status);
    });
  });
}

async function serving(client, deadline) {
  let status = await waitServing(client, deadline);
  // A server that is up but still NOT_SERVING: ask again until the deadline.
  while (status === 'NOT_SERVING' && Date.now() < deadline.getTime()) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    status = await waitServing(client, deadline);
  }
  if (status !== 'SERVING') fail(`not SERVING: ${status}`);
  console.log('health: SERVING');
}

async function drain(client, deadline, command) {
  await serving(client, deadline);
  const statuses = [];
  let notServingAt;
  await new Promise((resolve) => {
    const call = client.Watch({ service: '' }, { deadline });
    call.on('data', ({ status }) => {
      statuses.push(status);
      if (status === 'SERVING' && statuses.length === 1) {
        const run = spawnSync(command[0], command.slice(1), { stdio: 'inherit' });
        if (run.status !== 0) fail(`${command.join(' ')} exited ${run.status}`);
      }
      if (status === 'NOT_SERVING') notServingAt = Date.now();
    });
    call.on('error', resolve);
    call.on('end', resolve);
  });
  if (notServingAt === undefined) fail(`no NOT_SERVING before the stream ended: ${statuses.join(', ')}`);
  const heldSeconds = ((Date.now() - notServingAt) / 1000).toFixed(1);
  console.log(`health: ${statuses.join(' -> ')}, stream held ${heldSeconds} s after NOT_SERVING`);
}

const [mode, address, seconds, ...command] = process.argv.slice(2);
if (!['serving', 'drain'].includes(mode) || !address || !(Number(seconds) > 0) || (mode === 'drain') !== (command.length > 0)) {
  fail('usage: check.mjs serving HOST:PORT SECONDS | check.mjs drain HOST:PORT SECONDS COMMAND [ARGS...]');
}
const client = healthClient(address);
const deadline = new Date(Date.now() + Number(seconds) * 1000);
if (mode === 'serving') await serving(client, deadline);
else await drain(client, deadline, command);
client.close();
