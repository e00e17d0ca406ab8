"""The Helm chart in helm/: linted, rendered with several value sets, validated against the
Kubernetes 1.30 schemas (strict), bad values refused, and every probe path served by the app.

No helm binary is needed: `helm-python-sdk` embeds the Helm SDK (render and lint exactly as
`helm template` / `helm lint --strict` do, values.schema.json included) and
`kubernetes-validate` carries the Kubernetes OpenAPI schemas.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import helm_python as helm  # dev extra helm-python-sdk
import kubernetes_validate  # dev extra kubernetes-validate
import pytest
import yaml
from django.conf import settings
from django.test import Client

CHART = Path(settings.BASE_DIR) / "helm"
KUBERNETES = "1.30.0"
RELEASE, NAMESPACE = "vertrouwd", "vertrouwd"

MINIMAL: dict[str, Any] = {
    "baseDomain": "vertrouwd.example.nl",
    "image": {"repository": "registry.example.nl/vertrouwd", "tag": "0.1.0"},
    "secrets": {
        "databaseUrl": "postgresql://vertrouwd:pw@db.example.nl:5432/vertrouwd",
        "redisUrl": "redis://redis.example.nl:6379/0",
        "masterKey": "q" * 43 + "=",
        "secretKey": "k" * 64,
    },
}
PRODUCTION: dict[str, Any] = {
    "baseDomain": "vertrouwd.nl",
    "image": {
        "repository": "registry.example.nl/vertrouwd",
        "tag": "",
        "digest": "sha256:" + "ab" * 32,
    },
    "imagePullSecrets": [{"name": "registry"}],
    "serviceAccountName": "vertrouwd",
    "secrets": {"existingSecret": "vertrouwd-production"},
    "config": {"email": {"host": "smtp.example.nl", "user": "vertrouwd", "from": "x@vertrouwd.nl"}},
    "extraEnv": {"BILLING_TRIAL_DAYS": "14"},
    "web": {"autoscaling": {"minReplicas": 3, "maxReplicas": 20}},
    "migrations": {"processes": 8, "allowTenantFailures": False},
    "ingress": {
        "firms": ["acme", "bravo"],
        "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt-dns"},
        "tls": {"secretName": "vertrouwd-wildcard"},
    },
    "networkPolicy": {
        "egress": {
            "postgresql": {"port": 5432, "cidrs": ["10.20.0.0/24"]},
            "redis": {"port": 6380, "cidrs": ["10.20.1.0/24"]},
        }
    },
}
NO_AUTOSCALING: dict[str, Any] = {
    **MINIMAL,
    "web": {"replicas": 3, "autoscaling": {"enabled": False}},
    "worker": {"replicas": 1, "autoscaling": {"enabled": False}, "pdb": {"enabled": False}},
    "networkPolicy": {"enabled": False},
    "ingress": {"tls": {"enabled": False}},
}
VALUE_SETS = {"minimal": MINIMAL, "production": PRODUCTION, "no-autoscaling": NO_AUTOSCALING}


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    documents = []
    for path, text in sorted(manifests.items()):
        if path.endswith(".yaml"):
            documents += [doc for doc in yaml.safe_load_all(text) if doc]
    return documents


def by_kind(documents: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in documents if doc["kind"] == kind}


def pod_specs(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        doc["metadata"]["name"]: doc["spec"]["template"]["spec"]
        for doc in documents
        if doc["kind"] in {"Deployment", "Job"}
    }


def merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


@pytest.mark.parametrize("name", VALUE_SETS)
def test_lint_strict_passes(name):
    report = helm.lint(CHART, VALUE_SETS[name], strict=True, kube_version=f"v{KUBERNETES}")
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize("name", VALUE_SETS)
def test_rendered_manifests_are_valid_kubernetes_1_30(name):
    documents = render(VALUE_SETS[name])
    for document in documents:
        kubernetes_validate.validate(document, KUBERNETES, strict=True)
    kinds = sorted({doc["kind"] for doc in documents})
    expected = {
        "minimal": [
            "ConfigMap", "Deployment", "HorizontalPodAutoscaler", "Ingress", "Job",
            "NetworkPolicy", "PodDisruptionBudget", "Secret", "Service",
        ],
        "production": [
            "ConfigMap", "Deployment", "HorizontalPodAutoscaler", "Ingress", "Job",
            "NetworkPolicy", "PodDisruptionBudget", "Service",
        ],
        "no-autoscaling": [
            "ConfigMap", "Deployment", "Ingress", "Job", "PodDisruptionBudget", "Secret", "Service",
        ],
    }[name]  # fmt: skip
    assert kinds == expected


def test_deployments_job_and_beat_singleton():
    documents = render(MINIMAL)
    deployments = by_kind(documents, "Deployment")
    assert sorted(deployments) == ["vertrouwd-beat", "vertrouwd-web", "vertrouwd-worker"]
    beat = deployments["vertrouwd-beat"]["spec"]
    assert beat["replicas"] == 1 and beat["strategy"] == {"type": "Recreate"}
    assert "vertrouwd-beat" not in by_kind(documents, "HorizontalPodAutoscaler")
    for name in ("vertrouwd-web", "vertrouwd-worker"):
        assert "replicas" not in deployments[name]["spec"]  # the HPA owns the count
    roles = {name: spec["containers"][0]["args"][0] for name, spec in pod_specs(documents).items()}
    assert roles == {
        "vertrouwd-beat": "beat",
        "vertrouwd-migrate": "migrate",
        "vertrouwd-web": "web",
        "vertrouwd-worker": "worker",
    }
    # The migration Job and the configuration it reads are hooks before install and upgrade,
    # the configuration first.
    hooks = {
        (doc["kind"], doc["metadata"]["name"]): doc["metadata"].get("annotations", {})
        for doc in documents
        if "helm.sh/hook" in doc["metadata"].get("annotations", {})
    }
    assert sorted(hooks) == [
        ("ConfigMap", "vertrouwd-migrate"),
        ("Job", "vertrouwd-migrate"),
        ("Secret", "vertrouwd-migrate"),
    ]
    for (kind, _name), hook in hooks.items():
        assert hook["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert int(hook["helm.sh/hook-weight"]) == (0 if kind == "Job" else -10)
    job = by_kind(documents, "Job")["vertrouwd-migrate"]["spec"]["template"]["spec"]
    assert job["restartPolicy"] == "Never"
    assert job["containers"][0]["args"] == ["migrate", "--processes", "4", "--allow-failures"]


def test_every_pod_runs_unprivileged_on_a_read_only_root():
    for name, spec in pod_specs(render(PRODUCTION)).items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}], name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True and context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
            assert container["resources"]["requests"]["memory"]
            assert container["image"] == "registry.example.nl/vertrouwd@sha256:" + "ab" * 32


def test_secrets_come_from_the_existing_secret_and_config_from_the_configmap():
    documents = render(PRODUCTION)
    assert by_kind(documents, "Secret") == {}
    for name, spec in pod_specs(documents).items():
        container = spec["containers"][0]
        references = {item["name"]: item["valueFrom"]["secretKeyRef"] for item in container["env"]}
        assert {ref["name"] for ref in references.values()} == {"vertrouwd-production"}, name
        assert {key for key, ref in references.items() if not ref.get("optional")} == {
            "DATABASE_URL", "REDIS_URL", "MASTER_KEY", "SECRET_KEY",
        }  # fmt: skip
        assert {"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "EMAIL_HOST_PASSWORD"} <= set(
            references
        )
    config = by_kind(documents, "ConfigMap")["vertrouwd-config"]["data"]
    assert config["BASE_DOMAIN"] == "vertrouwd.nl"
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert config["SECURE_HSTS_SECONDS"] == "31536000" and config["BILLING_TRIAL_DAYS"] == "14"
    job = pod_specs(documents)["vertrouwd-migrate"]["containers"][0]["args"]
    assert job == ["migrate", "--processes", "8"]  # failures fail the release


def test_inline_secrets_are_rendered_into_a_secret():
    import base64

    secret = by_kind(render(MINIMAL), "Secret")["vertrouwd-secrets"]["data"]
    assert base64.b64decode(secret["MASTER_KEY"]).decode() == MINIMAL["secrets"]["masterKey"]
    assert sorted(secret) == ["DATABASE_URL", "MASTER_KEY", "REDIS_URL", "SECRET_KEY"]


def test_ingress_serves_the_base_domain_and_wildcards_with_tls():
    ingress = by_kind(render(PRODUCTION), "Ingress")["vertrouwd"]["spec"]
    hosts = [rule["host"] for rule in ingress["rules"]]
    assert hosts == [
        "vertrouwd.nl",
        "*.vertrouwd.nl",
        "*.acme.vertrouwd.nl",
        "*.bravo.vertrouwd.nl",
    ]
    assert ingress["tls"] == [{"secretName": "vertrouwd-wildcard", "hosts": hosts}]
    backends = {
        path["backend"]["service"]["name"] for r in ingress["rules"] for path in r["http"]["paths"]
    }
    assert backends == {"vertrouwd-web"}
    assert "tls" not in by_kind(render(NO_AUTOSCALING), "Ingress")["vertrouwd"]["spec"]


def test_the_ingress_passes_bodies_as_large_as_the_app_accepts():
    """nginx's default 1 MB refused 10 MB attachments before the app could answer."""
    from django.conf import settings

    annotations = by_kind(render(PRODUCTION), "Ingress")["vertrouwd"]["metadata"]["annotations"]
    size = annotations["nginx.ingress.kubernetes.io/proxy-body-size"]
    assert size == f"{settings.MAX_REQUEST_BYTES // (1024 * 1024)}m"
    own = merged(
        PRODUCTION,
        {"ingress": {"annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "80m"}}},
    )
    rendered = by_kind(render(own), "Ingress")["vertrouwd"]["metadata"]["annotations"]
    assert rendered["nginx.ingress.kubernetes.io/proxy-body-size"] == "80m"


def test_autoscaling_off_sets_replicas_and_drops_the_hpas():
    documents = render(NO_AUTOSCALING)
    deployments = by_kind(documents, "Deployment")
    assert deployments["vertrouwd-web"]["spec"]["replicas"] == 3
    assert deployments["vertrouwd-worker"]["spec"]["replicas"] == 1
    assert by_kind(documents, "HorizontalPodAutoscaler") == {}
    assert sorted(by_kind(documents, "PodDisruptionBudget")) == ["vertrouwd-web"]


def test_network_policy_admits_only_the_ingress_controller_and_limits_egress():
    policies = by_kind(render(PRODUCTION), "NetworkPolicy")
    web = policies["vertrouwd-web"]["spec"]
    assert web["ingress"][0]["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    ]
    default = policies["vertrouwd-default"]["spec"]
    assert default["ingress"] == [] and default["policyTypes"] == ["Ingress", "Egress"]
    egress = {
        (
            rule["ports"][0]["port"],
            tuple(peer.get("ipBlock", {}).get("cidr") for peer in rule["to"]),
        )
        for rule in default["egress"]
    }
    assert egress == {
        (53, (None,)),
        (5432, ("10.20.0.0/24",)),
        (6380, ("10.20.1.0/24",)),
        (587, ("0.0.0.0/0",)),
        (443, ("0.0.0.0/0",)),
    }


def _without(values: dict[str, Any], dotted: str) -> dict[str, Any]:
    result = copy.deepcopy(values)
    *parents, last = dotted.split(".")
    node = result
    for part in parents:
        node = node[part]
    del node[last]
    return result


BAD_VALUES = {
    "no values at all": ({}, "baseDomain"),
    "baseDomain missing": (_without(MINIMAL, "baseDomain"), "baseDomain"),
    "image repository missing": (_without(MINIMAL, "image.repository"), "repository"),
    "no tag and no digest": (merged(MINIMAL, {"image": {"tag": ""}}), "tag"),
    "database URL missing": (_without(MINIMAL, "secrets.databaseUrl"), "databaseUrl"),
    "master key missing": (_without(MINIMAL, "secrets.masterKey"), "masterKey"),
    "master key not 32 bytes": (
        merged(MINIMAL, {"secrets": {"masterKey": "c2hvcnQ="}}),
        "masterKey",
    ),
    "secret key too short": (merged(MINIMAL, {"secrets": {"secretKey": "short"}}), "secretKey"),
    "database URL not PostgreSQL": (
        merged(MINIMAL, {"secrets": {"databaseUrl": "mysql://x@db/v"}}),
        "databaseUrl",
    ),
    "replicas of the wrong type": (merged(MINIMAL, {"web": {"replicas": "two"}}), "replicas"),
    "autoscaling flag of the wrong type": (
        merged(MINIMAL, {"worker": {"autoscaling": {"enabled": "yes"}}}),
        "enabled",
    ),
    "misspelt top-level key": ({**MINIMAL, "baseDomian": "x.nl"}, "baseDomian"),
    "base domain with a scheme": ({**MINIMAL, "baseDomain": "https://x.nl"}, "baseDomain"),
    "firm that is no DNS label": (merged(MINIMAL, {"ingress": {"firms": ["Acme Ltd"]}}), "firms"),
    "root user": (merged(MINIMAL, {"podSecurityContext": {"runAsNonRoot": False}}), "runAsNonRoot"),
}


@pytest.mark.parametrize("case", BAD_VALUES)
def test_bad_values_are_refused_by_render_and_lint(case):
    values, mentioned = BAD_VALUES[case]
    with pytest.raises(helm.HelmValuesError) as refused:
        render(values)
    assert mentioned in str(refused.value)
    report = helm.lint(CHART, values, strict=True, kube_version=f"v{KUBERNETES}")
    assert report["errors"] and any(mentioned in error for error in report["errors"])


def test_existing_secret_makes_the_inline_secrets_optional():
    values = {**_without(MINIMAL, "secrets"), "secrets": {"existingSecret": "mine"}}
    assert by_kind(render(values), "Secret") == {}


def test_every_probe_path_is_served_by_the_app(db):
    """Probes hit the pod IP: whatever the host, the path must answer 200 or 503, never 404."""
    probes = []
    for spec in pod_specs(render(MINIMAL)).values():
        for container in spec["containers"]:
            ports = {port["name"] for port in container.get("ports", [])}
            for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
                if kind in container:
                    get = container[kind]["httpGet"]
                    assert get["port"] in ports  # a named port the container declares
                    probes.append(get["path"])
    assert sorted(set(probes)) == ["/healthz", "/readyz"]
    for path in sorted(set(probes)):
        for host in ("10.1.2.3", "10.1.2.3:8000", settings.BASE_DOMAIN):
            response = Client(HTTP_HOST=host).get(path)
            assert response.status_code in {200, 503}, (path, host, response.status_code)
    # And a path the app does not serve is a 404 there (the check above could not pass blindly).
    assert Client(HTTP_HOST=settings.BASE_DOMAIN).get("/no-such-probe").status_code == 404


def test_the_intakes_paths_have_an_ingress_without_access_log():
    """ingress-nginx logs every client's address and user agent; the employee intake promises
    that none is kept: its paths get an Ingress of their own with the access log off."""
    documents = by_kind(render(PRODUCTION), "Ingress")
    main, intake = documents["vertrouwd"], documents["vertrouwd-intake"]
    annotations = intake["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/enable-access-log"] == "false"
    assert "nginx.ingress.kubernetes.io/enable-access-log" not in main["metadata"]["annotations"]
    assert annotations["cert-manager.io/cluster-issuer"] == "letsencrypt-dns"
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "52m"
    assert intake["spec"]["tls"] == main["spec"]["tls"]
    assert [rule["host"] for rule in intake["spec"]["rules"]] == [
        rule["host"] for rule in main["spec"]["rules"]
    ]
    for rule in intake["spec"]["rules"]:
        assert [(p["path"], p["pathType"]) for p in rule["http"]["paths"]] == [
            ("/intake/", "Prefix"),
            ("/m/", "Prefix"),
        ]
        assert {p["backend"]["service"]["name"] for p in rule["http"]["paths"]} == {"vertrouwd-web"}
    logged = merged(PRODUCTION, {"ingress": {"reporterAccessLog": True}})
    assert "vertrouwd-intake" not in by_kind(render(logged), "Ingress")
