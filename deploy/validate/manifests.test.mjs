// Renders both overlays with kubectl kustomize and checks every object strictly against the
// Kubernetes schemas and the overlay's rules; then proves the checks reject broken manifests, both
// object by object and through a real kustomize overlay with a bad patch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderKustomization } from './render.mjs';
import { validateObject, validateObjects } from './schema.mjs';
import { checkCommon, checkProduction, checkSingleNode } from './policy.mjs';

const KUSTOMIZE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'kustomize');
const single = renderKustomization(path.join(KUSTOMIZE, 'overlays', 'single-node'));
const production = renderKustomization(path.join(KUSTOMIZE, 'overlays', 'production'));

function kinds(objects) {
  return objects.map((object) => object.kind).sort();
}

function deploymentOf(objects) {
  return structuredClone(objects.find((object) => object.kind === 'Deployment'));
}

// The objects with the Deployment replaced by `edit` applied to a copy of it.
function withDeployment(objects, edit) {
  const deployment = deploymentOf(objects);
  edit(deployment);
  return objects.map((object) => (object.kind === 'Deployment' ? deployment : object));
}

test('single-node overlay renders the expected objects', () => {
  assert.deepEqual(kinds(single),
    ['ConfigMap', 'Deployment', 'NetworkPolicy', 'PersistentVolumeClaim', 'Service', 'ServiceAccount']);
});

test('production overlay renders the expected objects', () => {
  assert.deepEqual(kinds(production),
    ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'PodDisruptionBudget', 'Service',
     'ServiceAccount']);
});

for (const [name, objects, checkOverlay] of [
  ['single-node', single, checkSingleNode],
  ['production', production, checkProduction],
]) {
  test(`${name}: every object is valid under the strict schema check`, async () => {
    assert.deepEqual(await validateObjects(objects), []);
  });
  test(`${name}: keeps the common rules and its own`, () => {
    assert.deepEqual(checkCommon(objects), []);
    assert.deepEqual(checkOverlay(objects), []);
  });
}

test('an unknown field is rejected, though kubernetes-models alone accepts it', async () => {
  const deployment = deploymentOf(production);
  deployment.spec.template.spec.containers[0].livenessProbe.grpc.serviceName = 'art.v1.Groups';
  const { Deployment } = await import('kubernetes-models/apps/v1');
  assert.doesNotThrow(() => new Deployment(deployment).validate());
  assert.deepEqual(await validateObject(deployment), [
    'Deployment/artd.spec.template.spec.containers[0].livenessProbe.grpc.serviceName: ' +
      'unknown field (V1GRPCAction has no "serviceName")',
  ]);
});

test('a misspelt field anywhere is rejected', async () => {
  const deployment = deploymentOf(single);
  deployment.spec.template.spec.securityContext.runAsNonRot = true;
  const service = structuredClone(single.find((object) => object.kind === 'Service'));
  service.spec.ports[0].tagetPort = 'grpc';
  const errors = await validateObjects([deployment, service]);
  assert.equal(errors.length, 2, errors.join('\n'));
  assert.match(errors[0], /securityContext\.runAsNonRot: unknown field/);
  assert.match(errors[1], /ports\[0\]\.tagetPort: unknown field/);
});

test('a value of the wrong type is rejected', async () => {
  const deployment = deploymentOf(single);
  deployment.spec.replicas = '1';
  deployment.spec.template.spec.containers[0].readinessProbe.grpc.port = 'grpc';  // grpc probes take a number
  const errors = await validateObject(deployment);
  assert.ok(errors.some((e) => /spec\.replicas: expected a number/.test(e)), errors.join('\n'));
  assert.ok(errors.some((e) => /readinessProbe\.grpc\.port: expected a number/.test(e)), errors.join('\n'));
});

test('a missing required field and an unknown kind are rejected', async () => {
  const deployment = deploymentOf(single);
  delete deployment.spec.template.spec.containers[0].name;
  assert.ok((await validateObject(deployment)).some((e) => /name/.test(e)));
  const typo = { apiVersion: 'apps/v1', kind: 'Deployments', metadata: { name: 'artd' } };
  assert.ok((await validateObject(typo)).some((e) => /unknown kind Deployments/.test(e)));
});

test('a bad patch in a real overlay is caught after kustomize renders it', async () => {
  const overlay = mkdtempSync(path.join(tmpdir(), 'artd-bad-overlay-'));
  try {
    writeFileSync(path.join(overlay, 'kustomization.yaml'), [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      // kustomize takes only relative paths to other kustomizations.
      `resources: [${path.relative(overlay, path.join(KUSTOMIZE, 'overlays', 'single-node'))}]`,
      'patches:',
      '  - patch: |-',
      '      apiVersion: apps/v1',
      '      kind: Deployment',
      '      metadata: {name: artd}',
      '      spec:',
      '        template:',
      '          spec:',
      '            containers:',
      '              - name: artd',
      '                resources: {limits: {memory: 1Gi}, requets: {memory: 1Gi}}',
    ].join('\n'));
    const errors = await validateObjects(renderKustomization(overlay));
    assert.deepEqual(errors, [
      'Deployment/artd.spec.template.spec.containers[0].resources.requets: ' +
        'unknown field (V1ResourceRequirements has no "requets")',
    ]);
  } finally {
    rmSync(overlay, { recursive: true, force: true });
  }
});

test('the rules reject an unsafe or inconsistent Deployment', () => {
  const broken = (edit, check = checkCommon, objects = single) => check(withDeployment(objects, edit));
  assert.match(broken((d) => { d.spec.template.spec.terminationGracePeriodSeconds = 10; }).join('\n'),
    /terminationGracePeriodSeconds 10 must be at least ARTD_DRAIN_SECONDS 10/);
  assert.match(broken((d) => { d.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false; }).join('\n'),
    /readOnlyRootFilesystem must be true/);
  assert.match(broken((d) => { d.spec.template.spec.containers[0].securityContext.capabilities.drop = []; }).join('\n'),
    /capabilities must drop ALL/);
  assert.match(broken((d) => { delete d.spec.template.spec.containers[0].resources.limits; }).join('\n'),
    /resources\.limits\.cpu is missing/);
  assert.match(broken((d) => { d.spec.template.spec.containers[0].readinessProbe = { tcpSocket: { port: 50051 } }; }).join('\n'),
    /readinessProbe must be a grpc probe/);
  assert.match(broken((d) => { d.spec.template.spec.securityContext.runAsNonRoot = false; }).join('\n'),
    /runAsNonRoot must be true/);
});

test('the single-node rules reject a second pod on the SQLite volume', () => {
  assert.match(checkSingleNode(withDeployment(single, (d) => { d.spec.replicas = 2; })).join('\n'),
    /replicas must be 1/);
  assert.match(checkSingleNode(withDeployment(single, (d) => { d.spec.strategy = { type: 'RollingUpdate' }; })).join('\n'),
    /strategy must be Recreate/);
  const hpa = production.find((object) => object.kind === 'HorizontalPodAutoscaler');
  assert.match(checkSingleNode([...single, hpa]).join('\n'), /must not scale the SQLite pod/);
});

test('the production rules want an autoscaler, a budget and the database from a Secret', () => {
  const withoutBudget = production.filter((object) => object.kind !== 'PodDisruptionBudget');
  assert.match(checkProduction(withoutBudget).join('\n'), /one PodDisruptionBudget/);
  const withoutAutoscaler = production.filter((object) => object.kind !== 'HorizontalPodAutoscaler');
  assert.match(checkProduction(withoutAutoscaler).join('\n'), /one HorizontalPodAutoscaler/);
  const plainDatabase = withDeployment(production, (d) => {
    d.spec.template.spec.containers[0].env = [{ name: 'ARTD_DATABASE', value: 'postgres://artd:secret@db/artd' }];
  });
  assert.match(checkProduction(plainDatabase).join('\n'), /ARTD_DATABASE must come from a Secret/);
});
