"""The kubernetes scheduler (``DOCKYARD_SCHEDULER=kubernetes``): apps run as Deployments in a
namespace per app on a cluster reached through kubernetes_asyncio.

Modules: ``names`` (object names and labels), ``manifests`` (the objects, pure), ``states``
(pod states and failure reasons, pure), ``cluster`` (the small API interface), ``client`` (it,
on a real API server), ``fake`` (it, in memory), ``rollout`` (a Deployment's rollout and
rollback), ``runs`` (one-off pods), ``eventlog`` (the app log), ``routes`` (Ingress and TLS),
``scheduler`` (the ``Scheduler`` that ties them together).

Objects in the namespace ``<app>``:

- ``Deployment <app>-<type>`` per process type (labels ``app``, ``type``), its pods labelled
  ``app``, ``type``, ``version``; rolled with maxUnavailable 0, ``revisionHistoryLimit`` 5, the
  release's termination grace period, probes from the healthcheck config, requests and limits
  from the memory/cpu limits, a node selector from the tags and an image pull secret from the
  registry config. Its ReplicaSets are ``<app>-<type>-<10 digits>``, so pods are named
  ``<app>-<type>-<digits>-<5 chars>`` as on Deis (see ``rollout``).
- ``Secret <app>-v<N>-env`` per release (the env, used through ``envFrom``; web pods also get
  ``PORT=5000`` unless the config sets ``PORT``), ``Secret <app>-registry``
  (``kubernetes.io/dockerconfigjson``) when the config has registry credentials.
- ``Service <app>-web`` (port 80 to the web pods' ``PORT``) while the release has a web type.
- ``Ingress <app>``, ``Secret <app>-tls-<cert>`` and ``Service <app>-maintenance`` from
  ``route()`` (mapping in ``routes``); ``HorizontalPodAutoscaler <app>-<type>`` from
  ``autoscale()``; ``ConfigMap dockyard-events`` (the controller's events, and its notes such
  as how far env Secrets are pruned, see ``eventlog``); one-off
  ``Pod <app>-run-<digits>-<5 chars>`` while a command runs.

The scheduler never lists or watches Secrets (the controller's ClusterRole, which holds in
every namespace, has no such right: deploy/kubernetes/rbac.yaml): it deletes its own by name,
env Secrets by release number (``rollout.prune_env_secrets``) and TLS Secrets as the Ingress
names them (``routes``).
"""

from dockyard.scheduler.kubernetes.scheduler import KubernetesScheduler, from_settings

__all__ = ["KubernetesScheduler", "from_settings"]
