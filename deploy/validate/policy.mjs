// The rules artd's manifests must keep beyond schema validity: how artd is run safely (non-root,
// read-only, no capabilities, probes, resources, drain), and what each overlay promises (one pod on
// the SQLite volume; several replicas on PostgreSQL with an autoscaler and a disruption budget).
// Each check returns a list of problems, empty when the rule holds.

const GRPC_PORT = 50051;
// Probes use the plaintext health-only port (ARTD_HEALTH_LISTEN): kubelet's grpc probes cannot speak TLS.
const HEALTH_PORT = 8081;
// artd reports NOT_SERVING for up to this long before it stops accepting calls (service/server).
const NOT_SERVING_SECONDS = 1;
// Room after the drain for closing the database and exiting.
const EXIT_MARGIN_SECONDS = 2;

function ofKind(objects, kind) {
  return objects.filter((object) => object.kind === kind);
}

function selects(selector, labels) {
  const matchLabels = selector?.matchLabels ?? selector ?? {};
  if (Object.keys(matchLabels).length === 0) return false;  // An empty selector is never intended here.
  return Object.entries(matchLabels).every(([key, value]) => labels?.[key] === value);
}

// The value a container sees for an environment variable: an env entry (literal, or "secret:NAME/KEY"
// for a Secret reference) or the ConfigMap its envFrom names; undefined when unset.
function environmentValue(objects, container, variable) {
  const entry = (container.env ?? []).find((env) => env.name === variable);
  if (entry) {
    const secret = entry.valueFrom?.secretKeyRef;
    return secret ? `secret:${secret.name}/${secret.key}` : entry.value;
  }
  for (const source of container.envFrom ?? []) {
    const configMap = ofKind(objects, 'ConfigMap').find((map) => map.metadata.name === source.configMapRef?.name);
    if (configMap?.data?.[variable] !== undefined) return configMap.data[variable];
  }
  return undefined;
}

function theDeployment(objects, errors) {
  const deployments = ofKind(objects, 'Deployment').filter((d) => d.metadata.name === 'artd');
  if (deployments.length !== 1) errors.push(`expected one Deployment artd, found ${deployments.length}`);
  return deployments[0];
}

// Rules for every overlay.
export function checkCommon(objects) {
  const errors = [];
  const deployment = theDeployment(objects, errors);
  if (!deployment) return errors;
  const pod = deployment.spec.template.spec;
  const podLabels = deployment.spec.template.metadata?.labels;
  const where = 'Deployment/artd';

  if (!selects(deployment.spec.selector, podLabels)) errors.push(`${where}: selector does not match the pod labels`);
  if (pod.securityContext?.runAsNonRoot !== true) errors.push(`${where}: pod securityContext.runAsNonRoot must be true`);
  if (!(pod.securityContext?.runAsUser > 0)) errors.push(`${where}: pod securityContext.runAsUser must be a non-root uid`);
  if (pod.automountServiceAccountToken !== false) errors.push(`${where}: automountServiceAccountToken must be false`);
  const account = pod.serviceAccountName;
  if (!account || !ofKind(objects, 'ServiceAccount').some((sa) => sa.metadata.name === account)) {
    errors.push(`${where}: serviceAccountName ${account} has no ServiceAccount`);
  }

  const containers = pod.containers ?? [];
  const artd = containers.find((c) => c.name === 'artd');
  if (!artd) return [...errors, `${where}: no container artd`];
  for (const container of [...containers, ...(pod.initContainers ?? [])]) {
    const at = `${where} container ${container.name}`;
    const security = container.securityContext ?? {};
    if (security.readOnlyRootFilesystem !== true) errors.push(`${at}: readOnlyRootFilesystem must be true`);
    if (security.allowPrivilegeEscalation !== false) errors.push(`${at}: allowPrivilegeEscalation must be false`);
    if (security.privileged === true) errors.push(`${at}: must not be privileged`);
    if (!(security.capabilities?.drop ?? []).includes('ALL')) errors.push(`${at}: capabilities must drop ALL`);
    if ((security.capabilities?.add ?? []).length > 0) errors.push(`${at}: must add no capabilities`);
    for (const kind of ['requests', 'limits']) {
      for (const resource of ['cpu', 'memory']) {
        if (container.resources?.[kind]?.[resource] === undefined) errors.push(`${at}: resources.${kind}.${resource} is missing`);
      }
    }
  }

  for (const probe of ['livenessProbe', 'readinessProbe']) {
    if (artd[probe]?.grpc?.port !== HEALTH_PORT) errors.push(`${where}: ${probe} must be a grpc probe on port ${HEALTH_PORT}`);
    if (artd[probe]?.grpc?.service) errors.push(`${where}: ${probe} must check the whole server (service "")`);
  }
  if (!(artd.ports ?? []).some((p) => p.containerPort === GRPC_PORT)) errors.push(`${where}: container does not expose ${GRPC_PORT}`);
  const listen = environmentValue(objects, artd, 'ARTD_LISTEN');
  if (listen !== `0.0.0.0:${GRPC_PORT}`) errors.push(`${where}: ARTD_LISTEN must be 0.0.0.0:${GRPC_PORT}, is ${listen}`);
  if (environmentValue(objects, artd, 'ARTD_DATABASE') === undefined) errors.push(`${where}: ARTD_DATABASE is not set`);

  const drain = Number(environmentValue(objects, artd, 'ARTD_DRAIN_SECONDS') ?? 10);
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  if (!(grace >= drain + NOT_SERVING_SECONDS + EXIT_MARGIN_SECONDS)) {
    errors.push(`${where}: terminationGracePeriodSeconds ${grace} must be at least ARTD_DRAIN_SECONDS ${drain} + ` +
                `${NOT_SERVING_SECONDS + EXIT_MARGIN_SECONDS}, or SIGKILL cuts the drain short`);
  }

  const tmpMount = (artd.volumeMounts ?? []).find((m) => m.mountPath === '/tmp');
  const tmpVolume = (pod.volumes ?? []).find((v) => v.name === tmpMount?.name);
  if (!tmpVolume?.emptyDir) errors.push(`${where}: /tmp must be an emptyDir (the root filesystem is read-only)`);

  for (const service of ofKind(objects, 'Service')) {
    if (!selects(service.spec.selector, podLabels)) errors.push(`Service/${service.metadata.name}: selector does not match the pods`);
  }
  const policies = ofKind(objects, 'NetworkPolicy');
  if (policies.length === 0) errors.push('no NetworkPolicy');
  for (const policy of policies) {
    if (!selects(policy.spec.podSelector, podLabels)) errors.push(`NetworkPolicy/${policy.metadata.name}: podSelector does not match the pods`);
  }
  if (ofKind(objects, 'ConfigMap').length === 0) errors.push('no ConfigMap');
  return errors;
}

// One pod on SQLite in a PersistentVolumeClaim, never two at once.
export function checkSingleNode(objects) {
  const errors = [];
  const deployment = theDeployment(objects, errors);
  if (!deployment) return errors;
  const where = 'Deployment/artd';
  if (deployment.spec.replicas !== 1) errors.push(`${where}: replicas must be 1 on SQLite, is ${deployment.spec.replicas}`);
  if (deployment.spec.strategy?.type !== 'Recreate') {
    errors.push(`${where}: strategy must be Recreate (a rolling update runs two pods on the volume)`);
  }
  for (const hpa of ofKind(objects, 'HorizontalPodAutoscaler')) {
    if (hpa.spec.scaleTargetRef?.name === 'artd') errors.push(`HorizontalPodAutoscaler/${hpa.metadata.name}: must not scale the SQLite pod`);
  }
  const pod = deployment.spec.template.spec;
  const artd = (pod.containers ?? []).find((c) => c.name === 'artd');
  const dataMount = (artd?.volumeMounts ?? []).find((m) => m.mountPath === '/data');
  const claimName = (pod.volumes ?? []).find((v) => v.name === dataMount?.name)?.persistentVolumeClaim?.claimName;
  if (!claimName || !ofKind(objects, 'PersistentVolumeClaim').some((pvc) => pvc.metadata.name === claimName)) {
    errors.push(`${where}: /data must be a PersistentVolumeClaim of this overlay`);
  }
  const database = artd ? environmentValue(objects, artd, 'ARTD_DATABASE') : undefined;
  if (!database?.startsWith('/data/')) errors.push(`${where}: ARTD_DATABASE must be a file under /data, is ${database}`);
  return errors;
}

// Several replicas on PostgreSQL from a Secret, scaled by an autoscaler, guarded by a budget.
export function checkProduction(objects) {
  const errors = [];
  const deployment = theDeployment(objects, errors);
  if (!deployment) return errors;
  const where = 'Deployment/artd';
  const podLabels = deployment.spec.template.metadata?.labels;
  const artd = (deployment.spec.template.spec.containers ?? []).find((c) => c.name === 'artd');
  const database = artd ? environmentValue(objects, artd, 'ARTD_DATABASE') : undefined;
  if (!database?.startsWith('secret:')) errors.push(`${where}: ARTD_DATABASE must come from a Secret`);

  const hpas = ofKind(objects, 'HorizontalPodAutoscaler').filter(
    (hpa) => hpa.spec.scaleTargetRef?.kind === 'Deployment' && hpa.spec.scaleTargetRef?.name === 'artd');
  if (hpas.length !== 1) {
    errors.push(`expected one HorizontalPodAutoscaler for Deployment/artd, found ${hpas.length}`);
  } else {
    const { minReplicas = 1, maxReplicas } = hpas[0].spec;
    if (minReplicas < 2) errors.push(`HorizontalPodAutoscaler/${hpas[0].metadata.name}: minReplicas must be at least 2`);
    if (!(maxReplicas > minReplicas)) errors.push(`HorizontalPodAutoscaler/${hpas[0].metadata.name}: maxReplicas must exceed minReplicas`);
  }
  if (deployment.spec.replicas !== undefined) errors.push(`${where}: leave replicas to the autoscaler`);
  if (deployment.spec.strategy?.type === 'Recreate') errors.push(`${where}: Recreate stops every replica at once`);

  const budgets = ofKind(objects, 'PodDisruptionBudget').filter((pdb) => selects(pdb.spec.selector, podLabels));
  if (budgets.length !== 1) errors.push(`expected one PodDisruptionBudget for the artd pods, found ${budgets.length}`);
  return errors;
}
