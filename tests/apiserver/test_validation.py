"""Validation messages, checked against Kubernetes 1.32's exact wording.

Every case runs the real server pipeline (defaults -> prepare_for_create ->
validate_create) on a manifest a learner could write, and compares
``str(error)``, the line kubectl prints, with upstream's text.
"""

import copy

import pytest

from apiserver import fielderrors as fe
from apiserver.defaults import admit_pod
from apiserver.kinds import apply_defaults, prepare_for_create, prepare_for_update, validate_create, validate_update
from apiserver.validation import (
    go_parse_duration_error,
    parse_schedule_error,
)

UID = "3c4b2f1e-0000-4000-8000-000000000001"

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
    "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
QNAME_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)


# -- factories -------------------------------------------------------------


def pod_spec(**overrides):
    spec = {"containers": [{"name": "pi", "image": "perl:5.34.0", "command": ["perl", "-v"]}], "restartPolicy": "Never"}
    spec.update(overrides)
    return spec


def job(spec=None, name="pi", **spec_overrides):
    body = {"template": {"spec": pod_spec()}, "backoffLimit": 4}
    body.update(spec or {})
    body.update(spec_overrides)
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": "default"}, "spec": body}


def cron_job(name="hello", **spec_overrides):
    body = {
        "schedule": "*/1 * * * *",
        "jobTemplate": {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "hello", "image": "busybox", "args": ["/bin/sh", "-c", "date; echo Hello"]}
                        ],
                        "restartPolicy": "OnFailure",
                    }
                }
            }
        },
    }
    body.update(spec_overrides)
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name, "namespace": "default"}, "spec": body}


def daemon_set(**spec_overrides):
    body = {
        "selector": {"matchLabels": {"name": "fluentd-elasticsearch"}},
        "template": {
            "metadata": {"labels": {"name": "fluentd-elasticsearch"}},
            "spec": {
                "tolerations": [
                    {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}
                ],
                "containers": [
                    {
                        "name": "fluentd-elasticsearch",
                        "image": "quay.io/fluentd_elasticsearch/fluentd:v2.5.2",
                        "resources": {"limits": {"memory": "200Mi"}, "requests": {"cpu": "100m", "memory": "200Mi"}},
                        "volumeMounts": [
                            {"name": "varlog", "mountPath": "/var/log"},
                            {"name": "varlibdockercontainers", "mountPath": "/var/lib/docker/containers", "readOnly": True},
                        ],
                    }
                ],
                "terminationGracePeriodSeconds": 30,
                "volumes": [
                    {"name": "varlog", "hostPath": {"path": "/var/log"}},
                    {"name": "varlibdockercontainers", "hostPath": {"path": "/var/lib/docker/containers"}},
                ],
            },
        },
    }
    body.update(spec_overrides)
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "fluentd-elasticsearch", "namespace": "kube-system", "labels": {"k8s-app": "fluentd-logging"}},
        "spec": body,
    }


def created(obj):
    """The object as the server validates it on create."""
    obj = apply_defaults(obj)
    if obj["kind"] == "Pod":
        obj = admit_pod(obj)
    return prepare_for_create(obj, uid=UID)


def create_errors(obj):
    return [str(e) for e in validate_create(created(obj))]


def job_with_container(**fields):
    base = {"name": "pi", "image": "perl:5.34.0"}
    base.update(fields)
    return job({"template": {"spec": pod_spec(containers=[{k: v for k, v in base.items() if v is not None}])}})


# -- valid manifests -------------------------------------------------------

PARALLEL_JOB = job(
    {
        "completions": 8,
        "parallelism": 2,
        "template": {
            "spec": {
                "containers": [{"name": "paral", "image": "ubuntu", "command": ["/bin/sh", "-c", "sleep 30; date"]}],
                "restartPolicy": "OnFailure",
            }
        },
    },
    name="paral-1",
)


@pytest.mark.parametrize(
    "manifest",
    [
        pytest.param(job(), id="pi job"),
        pytest.param(PARALLEL_JOB, id="parallel job completions 8 parallelism 2"),
        pytest.param(cron_job(), id="hello cronjob every minute"),
        pytest.param(daemon_set(), id="fluentd daemonset with control-plane toleration and hostPath"),
        pytest.param(
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nginx", "namespace": "default"},
             "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}},
            id="plain pod",
        ),
        pytest.param({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}, id="namespace"),
        pytest.param(
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-1"},
             "spec": {"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]},
             "status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"}}},
            id="node with taint",
        ),
        pytest.param(cron_job(schedule="@every 5m", timeZone="Europe/Berlin"), id="cronjob @every and timeZone"),
        pytest.param(cron_job(schedule="0 9 * JAN-MAR mon-fri"), id="cronjob names"),
        pytest.param(job(completionMode="Indexed", completions=5, parallelism=5), id="indexed job"),
        pytest.param(
            daemon_set(updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}}),
            id="daemonset surge",
        ),
    ],
)
def test_valid_manifests_have_no_errors(manifest):
    assert create_errors(manifest) == []


# -- single-error rules ----------------------------------------------------

JOB_CASES = [
    ("restartPolicy Always", job({"template": {"spec": pod_spec(restartPolicy="Always")}}),
     'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'),
    ("restartPolicy omitted", job({"template": {"spec": {k: v for k, v in pod_spec().items() if k != "restartPolicy"}}}),
     'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'),
    ("negative parallelism", job(parallelism=-1), "spec.parallelism: Invalid value: -1: must be greater than or equal to 0"),
    ("negative completions", job(completions=-1), "spec.completions: Invalid value: -1: must be greater than or equal to 0"),
    ("negative backoffLimit", job(backoffLimit=-1), "spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0"),
    ("negative activeDeadlineSeconds", job(activeDeadlineSeconds=-5),
     "spec.activeDeadlineSeconds: Invalid value: -5: must be greater than or equal to 0"),
    ("negative ttlSecondsAfterFinished", job(ttlSecondsAfterFinished=-1),
     "spec.ttlSecondsAfterFinished: Invalid value: -1: must be greater than or equal to 0"),
    ("indexed without completions", job(completionMode="Indexed", parallelism=3),
     "spec.completions: Required value: when completion mode is Indexed"),
    ("indexed parallelism too high", job(completionMode="Indexed", completions=3, parallelism=100001),
     "spec.parallelism: Invalid value: 100001: must be less than or equal to 100000 when completion mode is Indexed"),
    ("completionMode Foo", job(completionMode="Foo"),
     'spec.completionMode: Unsupported value: "Foo": supported values: "NonIndexed", "Indexed"'),
    ("backoffLimitPerIndex needs Indexed", job(backoffLimitPerIndex=1),
     "spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode"),
    ("podReplacementPolicy Foo", job(podReplacementPolicy="Foo"),
     'spec.podReplacementPolicy: Unsupported value: "Foo": supported values: "Failed", "TerminatingOrFailed"'),
    ("podFailurePolicy needs Never",
     job({"template": {"spec": pod_spec(restartPolicy="OnFailure")},
          "podFailurePolicy": {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]}}),
     'spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified'),
    ("podFailurePolicy rule without requirement",
     job(podFailurePolicy={"rules": [{"action": "FailJob"}]}),
     "spec.podFailurePolicy.rules[0]: Invalid value: specifying one of OnExitCodes and OnPodConditions is required"),
    ("podFailurePolicy unordered exit codes",
     job(podFailurePolicy={"rules": [{"action": "Ignore", "onExitCodes": {"operator": "NotIn", "values": [3, 1]}}]}),
     "spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: []int32{3, 1}: must be ordered"),
    ("missing name", {**job(), "metadata": {"namespace": "default"}},
     "metadata.name: Required value: name or generateName is required"),
    ("bad name", job(name="Bad_Name"), f'metadata.name: Invalid value: "Bad_Name": {SUBDOMAIN_MSG}'),
    ("no containers", job({"template": {"spec": pod_spec(containers=[])}}), "spec.template.spec.containers: Required value"),
    ("image missing", job_with_container(image=None), "spec.template.spec.containers[0].image: Required value"),
    ("container name missing", job_with_container(name=None), "spec.template.spec.containers[0].name: Required value"),
    ("container name invalid", job_with_container(name="Pi"),
     f'spec.template.spec.containers[0].name: Invalid value: "Pi": {LABEL_MSG}'),
    ("imagePullPolicy Sometimes", job_with_container(imagePullPolicy="Sometimes"),
     'spec.template.spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: '
     '"Always", "IfNotPresent", "Never"'),
    ("requests above limits", job_with_container(resources={"requests": {"cpu": "200m"}, "limits": {"cpu": "100m"}}),
     'spec.template.spec.containers[0].resources.requests: Invalid value: "200m": must be less than or equal to '
     "cpu limit of 100m"),
    ("negative memory limit", job_with_container(resources={"limits": {"memory": "-1Gi"}}),
     'spec.template.spec.containers[0].resources.limits[memory]: Invalid value: "-1Gi": must be greater than or equal to 0'),
    ("unknown resource", job_with_container(resources={"limits": {"gpu": "1"}}),
     'spec.template.spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource for containers'),
    ("port out of range", job_with_container(ports=[{"containerPort": 70000}]),
     "spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"),
    ("port protocol", job_with_container(ports=[{"containerPort": 80, "protocol": "HTTP"}]),
     'spec.template.spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'),
    ("mount of unknown volume", job_with_container(volumeMounts=[{"name": "data", "mountPath": "/data"}]),
     'spec.template.spec.containers[0].volumeMounts[0].name: Not found: "data"'),
    ("dnsPolicy", job({"template": {"spec": pod_spec(dnsPolicy="Google")}}),
     'spec.template.spec.dnsPolicy: Unsupported value: "Google": supported values: "ClusterFirstWithHostNet", '
     '"ClusterFirst", "Default", "None"'),
    ("nodeSelector value", job({"template": {"spec": pod_spec(nodeSelector={"disk": "fast ssd"})}}),
     f'spec.template.spec.nodeSelector: Invalid value: "fast ssd": {LABEL_VALUE_MSG}'),
    ("toleration Exists with value",
     job({"template": {"spec": pod_spec(tolerations=[{"key": "gpu", "operator": "Exists", "value": "yes"}])}}),
     "spec.template.spec.tolerations[0].operator: Invalid value: \"yes\": value must be empty when `operator` is 'Exists'"),
    ("toleration effect", job({"template": {"spec": pod_spec(tolerations=[{"key": "gpu", "operator": "Exists", "effect": "NoRun"}])}}),
     'spec.template.spec.tolerations[0].effect: Unsupported value: "NoRun": supported values: "NoSchedule", '
     '"PreferNoSchedule", "NoExecute"'),
    ("toleration operator", job({"template": {"spec": pod_spec(tolerations=[{"key": "gpu", "operator": "In"}])}}),
     'spec.template.spec.tolerations[0].operator: Unsupported value: "In": supported values: "Equal", "Exists"'),
    ("tolerationSeconds needs NoExecute",
     job({"template": {"spec": pod_spec(tolerations=[{"key": "a", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 5}])}}),
     "spec.template.spec.tolerations[0].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when "
     "`tolerationSeconds` is set"),
    ("hostPath without path", job({"template": {"spec": pod_spec(volumes=[{"name": "logs", "hostPath": {"path": ""}}])}}),
     "spec.template.spec.volumes[0].hostPath.path: Required value"),
    ("duplicate volume", job({"template": {"spec": pod_spec(volumes=[{"name": "a", "emptyDir": {}}, {"name": "a", "emptyDir": {}}])}}),
     'spec.template.spec.volumes[1].name: Duplicate value: "a"'),
]


@pytest.mark.parametrize("manifest, expected", [pytest.param(m, e, id=i) for i, m, e in JOB_CASES])
def test_job_create_rules(manifest, expected):
    assert create_errors(manifest) == [expected]


def test_job_restart_policy_foo_fails_pod_and_job_rules():
    manifest = job({"template": {"spec": pod_spec(restartPolicy="Foo")}})
    assert create_errors(manifest) == [
        'spec.template.spec.restartPolicy: Unsupported value: "Foo": supported values: "Always", "OnFailure", "Never"',
        'spec.template.spec.restartPolicy: Unsupported value: "Foo": supported values: "OnFailure", "Never"',
    ]


def test_bad_template_label_is_also_copied_to_the_job():
    manifest = job({"template": {"metadata": {"labels": {"app": "-bad"}}, "spec": pod_spec()}})
    assert create_errors(manifest) == [
        f'metadata.labels: Invalid value: "-bad": {LABEL_VALUE_MSG}',
        f'spec.template.labels: Invalid value: "-bad": {LABEL_VALUE_MSG}',
    ]


def test_duplicate_container_names():
    manifest = job({"template": {"spec": pod_spec(containers=[{"name": "a", "image": "x"}, {"name": "a", "image": "y"}])}})
    assert create_errors(manifest) == ['spec.template.spec.containers[1].name: Duplicate value: "a"']


def test_manual_selector_without_selector_is_required_and_matches_nothing():
    manifest = job(manualSelector=True)
    assert create_errors(manifest) == [
        "spec.selector: Required value",
        "spec.template.metadata.labels: Invalid value: map[string]string(nil): `selector` does not match template `labels`",
    ]


def test_manual_selector_must_match_template_labels():
    manifest = job(
        {"manualSelector": True, "selector": {"matchLabels": {"app": "pi"}},
         "template": {"metadata": {"labels": {"app": "tau"}}, "spec": pod_spec()}}
    )
    assert create_errors(manifest) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"tau"}: '
        "`selector` does not match template `labels`"
    ]


def test_user_selector_without_manual_selector_is_not_auto_generated():
    manifest = job(
        {"selector": {"matchLabels": {"app": "pi"}}, "template": {"metadata": {"labels": {"app": "pi"}}, "spec": pod_spec()}}
    )
    assert create_errors(manifest) == [
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"pi", '
        f'"batch.kubernetes.io/controller-uid":"{UID}"}}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}}: '
        "`selector` not auto-generated"
    ]


def test_conflicting_generated_label_is_rejected():
    manifest = job({"template": {"metadata": {"labels": {"job-name": "other"}}, "spec": pod_spec()}})
    errors = create_errors(manifest)
    assert errors[0] == (
        'spec.template.metadata.labels[job-name]: Invalid value: map[string]string{"batch.kubernetes.io/controller-uid":'
        f'"{UID}", "batch.kubernetes.io/job-name":"pi", "controller-uid":"{UID}", "job-name":"other"}}: must be \'pi\''
    )


def test_job_name_longer_than_a_label_value():
    name = "a" * 64
    errors = create_errors(job(name=name))
    too_long = f'Invalid value: "{name}": must be no more than 63 characters'
    # The name becomes the job-name labels of the Job and of its pod template.
    assert f"metadata.labels: {too_long}" in errors
    assert f"spec.template.labels: {too_long}" in errors
    assert all("no more than 63 characters" in e for e in errors)


def test_indexed_job_name_must_leave_room_for_the_index():
    name = "a" * 62
    errors = create_errors(job(name=name, completionMode="Indexed", completions=10, parallelism=1))
    assert f'metadata.name: Invalid value: "{name}": will not able to create pod with invalid DNS label: {name}-9' in errors


CRON_CASES = [
    ("schedule missing", cron_job(schedule=""), "spec.schedule: Required value"),
    ("four fields", cron_job(schedule="*/1 * * *"),
     'spec.schedule: Invalid value: "*/1 * * *": expected exactly 5 fields, found 4: [*/1 * * *]'),
    ("seconds field", cron_job(schedule="0 */1 * * * *"),
     'spec.schedule: Invalid value: "0 */1 * * * *": expected exactly 5 fields, found 6: [0 */1 * * * *]'),
    ("minute 61", cron_job(schedule="61 * * * *"),
     'spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61'),
    ("bad token", cron_job(schedule="H * * * *"),
     'spec.schedule: Invalid value: "H * * * *": failed to parse int from H: strconv.Atoi: parsing "H": invalid syntax'),
    ("descriptor", cron_job(schedule="@sometimes"), 'spec.schedule: Invalid value: "@sometimes": unrecognized descriptor: @sometimes'),
    ("every without unit", cron_job(schedule="@every 5"),
     'spec.schedule: Invalid value: "@every 5": failed to parse duration @every 5: time: missing unit in duration "5"'),
    ("TZ in schedule", cron_job(schedule="TZ=UTC 0 * * * *"),
     'spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead'),
    ("empty timeZone", cron_job(timeZone=""), 'spec.timeZone: Invalid value: "": timeZone must be nil or non-empty string'),
    ("unknown timeZone", cron_job(timeZone="Mars/Olympus"), 'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'),
    ("Local timeZone", cron_job(timeZone="Local"),
     'spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'),
    ("concurrencyPolicy", cron_job(concurrencyPolicy="true"),
     'spec.concurrencyPolicy: Unsupported value: "true": supported values: "Allow", "Forbid", "Replace"'),
    ("startingDeadlineSeconds", cron_job(startingDeadlineSeconds=-10),
     "spec.startingDeadlineSeconds: Invalid value: -10: must be greater than or equal to 0"),
    ("successful history", cron_job(successfulJobsHistoryLimit=-1),
     "spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0"),
    ("failed history", cron_job(failedJobsHistoryLimit=-2),
     "spec.failedJobsHistoryLimit: Invalid value: -2: must be greater than or equal to 0"),
    ("name over 52", cron_job(name="c" * 53), f'metadata.name: Invalid value: "{"c" * 53}": must be no more than 52 characters'),
]


@pytest.mark.parametrize("manifest, expected", [pytest.param(m, e, id=i) for i, m, e in CRON_CASES])
def test_cron_job_create_rules(manifest, expected):
    assert create_errors(manifest) == [expected]


def test_cron_job_template_restart_policy_always():
    manifest = cron_job()
    manifest["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    assert create_errors(manifest) == [
        'spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'
    ]


def test_cron_job_template_selector_and_manual_selector_are_rejected():
    manifest = cron_job()
    manifest["spec"]["jobTemplate"]["spec"]["selector"] = {"matchLabels": {"app": "hello"}}
    manifest["spec"]["jobTemplate"]["spec"]["manualSelector"] = True
    assert create_errors(manifest) == [
        'spec.jobTemplate.spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"hello"}, '
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` will be auto-generated",
        'spec.jobTemplate.spec.manualSelector: Unsupported value: true: supported values: "nil", "false"',
    ]


DAEMONSET_CASES = [
    ("empty selector", daemon_set(selector={}),
     "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
     "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for daemonset"),
    ("selector mismatch", daemon_set(selector={"matchLabels": {"name": "fluentd"}}),
     'spec.template.metadata.labels: Invalid value: map[string]string{"name":"fluentd-elasticsearch"}: '
     "`selector` does not match template `labels`"),
    ("minReadySeconds", daemon_set(minReadySeconds=-1), "spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0"),
    ("revisionHistoryLimit", daemon_set(revisionHistoryLimit=-1),
     "spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0"),
    ("update strategy type", daemon_set(updateStrategy={"type": "Recreate"}),
     'spec.updateStrategy: Unsupported value: apps.DaemonSetUpdateStrategy{Type:"Recreate", '
     'RollingUpdate:(*apps.RollingUpdateDaemonSet)(nil)}: supported values: "RollingUpdate", "OnDelete"'),
    ("maxUnavailable not a percent", daemon_set(updateStrategy={"rollingUpdate": {"maxUnavailable": "5"}}),
     'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"5"}: '
     "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used "
     "for validation is '[0-9]+%')"),
    ("maxUnavailable over 100%", daemon_set(updateStrategy={"rollingUpdate": {"maxUnavailable": "150%"}}),
     'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, '
     'StrVal:"150%"}: must not be greater than 100%'),
    ("negative maxUnavailable", daemon_set(updateStrategy={"rollingUpdate": {"maxUnavailable": -1}}),
     "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: -1: must be greater than or equal to 0"),
    ("both zero", daemon_set(updateStrategy={"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}}),
     "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"),
    ("both set", daemon_set(updateStrategy={"rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}}),
     'spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:0, IntVal:1, StrVal:""}: '
     "may not be set when maxUnavailable is non-zero"),
    ("activeDeadlineSeconds", daemon_set(template={**daemon_set()["spec"]["template"],
                                                   "spec": {**daemon_set()["spec"]["template"]["spec"], "activeDeadlineSeconds": 10}}),
     "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in DaemonSet is not Supported"),
]


@pytest.mark.parametrize("manifest, expected", [pytest.param(m, e, id=i) for i, m, e in DAEMONSET_CASES])
def test_daemon_set_create_rules(manifest, expected):
    assert create_errors(manifest) == [expected]


@pytest.mark.parametrize("policy", ["Never", "OnFailure"])
def test_daemon_set_restart_policy_must_be_always(policy):
    manifest = daemon_set()
    manifest["spec"]["template"]["spec"]["restartPolicy"] = policy
    assert create_errors(manifest) == [
        f'spec.template.spec.restartPolicy: Unsupported value: "{policy}": supported values: "Always"'
    ]


OTHER_CASES = [
    ("namespace with dots", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team.a"}},
     'metadata.name: Invalid value: "team.a": must not contain dots'),
    ("namespace uppercase", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "TeamA"}},
     f'metadata.name: Invalid value: "TeamA": {LABEL_MSG}'),
    ("node taint effect", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
                           "spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoRun"}]}},
     'metadata.taints[0].effect: Unsupported value: "NoRun": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"'),
    ("node taint effect missing", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
                                   "spec": {"taints": [{"key": "dedicated"}]}},
     "metadata.taints[0].effect: Required value"),
    ("node taint key", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
                        "spec": {"taints": [{"key": "bad key", "effect": "NoSchedule"}]}},
     f'metadata.taints[0].key: Invalid value: "bad key": {QNAME_MSG}'),
    ("pod image whitespace", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
                              "spec": {"containers": [{"name": "c", "image": "nginx "}]}},
     'spec.containers[0].image: Invalid value: "nginx ": must not have leading or trailing whitespace'),
    ("pod without containers", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
                                "spec": {"containers": []}},
     "spec.containers: Required value"),
    ("lease duration", {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                        "metadata": {"name": "n1", "namespace": "kube-node-lease"}, "spec": {"leaseDurationSeconds": 0}},
     "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"),
    ("controller revision data", {"apiVersion": "apps/v1", "kind": "ControllerRevision",
                                  "metadata": {"name": "ds-1", "namespace": "default"}, "revision": 1},
     "data: Required value: data is mandatory"),
]


@pytest.mark.parametrize("manifest, expected", [pytest.param(m, e, id=i) for i, m, e in OTHER_CASES])
def test_other_kinds_create_rules(manifest, expected):
    assert create_errors(manifest) == [expected]


def test_namespaced_kind_requires_namespace():
    manifest = job()
    del manifest["metadata"]["namespace"]
    assert create_errors(manifest) == ["metadata.namespace: Required value"]


def test_annotation_key_must_be_a_qualified_name():
    manifest = job()
    manifest["metadata"]["annotations"] = {"a/b/c": "x"}
    assert create_errors(manifest) == [
        "metadata.annotations: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, "
        "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
        "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
        "subdomain prefix and '/' (e.g. 'example.com/MyName')"
    ]


def test_annotations_size_limit():
    manifest = job()
    manifest["metadata"]["annotations"] = {"big": "x" * (256 * 1024)}
    assert create_errors(manifest) == ["metadata.annotations: Too long: may not be more than 262144 bytes"]


def test_generate_name_allows_trailing_dash():
    manifest = job()
    manifest["metadata"] = {"generateName": "pi-", "name": "pi-x7k2p", "namespace": "default"}
    assert create_errors(manifest) == []


# -- updates ---------------------------------------------------------------


def stored(obj):
    out = created(obj)
    out["metadata"]["resourceVersion"] = "1"
    return out


def updated(old, mutate):
    new = copy.deepcopy(old)
    mutate(new)
    return prepare_for_update(apply_defaults(new), old)


def test_job_completions_are_immutable():
    old = stored(job())
    new = updated(old, lambda j: j["spec"].update(completions=3))
    assert "spec.completions: Invalid value: 3: field is immutable" in [str(e) for e in validate_update(new, old)]


def test_indexed_job_completions_may_change_with_parallelism():
    old = stored(job(completionMode="Indexed", completions=4, parallelism=4))
    same = updated(old, lambda j: j["spec"].update(completions=6, parallelism=6))
    assert validate_update(same, old) == []
    apart = updated(old, lambda j: j["spec"].update(completions=6))
    assert [str(e) for e in validate_update(apart, old)] == [
        "spec.completions: Invalid value: 6: can only be modified in tandem with spec.parallelism"
    ]


def test_job_template_is_immutable():
    old = stored(job())
    new = updated(old, lambda j: j["spec"]["template"]["spec"]["containers"][0].update(image="perl:5.36"))
    errors = [str(e) for e in validate_update(new, old)]
    assert len(errors) == 1
    assert errors[0].startswith("spec.template: Invalid value: core.PodTemplateSpec{")
    assert errors[0].endswith(": field is immutable")


def test_suspended_job_may_change_node_selector():
    old = stored(job(suspend=True))
    new = updated(old, lambda j: j["spec"]["template"]["spec"].update(nodeSelector={"disk": "ssd"}))
    assert validate_update(new, old) == []


def test_job_completion_mode_is_immutable():
    old = stored(job(completionMode="Indexed", completions=2, parallelism=2))
    new = updated(old, lambda j: j["spec"].update(completionMode="NonIndexed"))
    assert 'spec.completionMode: Invalid value: "NonIndexed": field is immutable' in [str(e) for e in validate_update(new, old)]


def test_job_parallelism_may_change():
    old = stored(PARALLEL_JOB)
    new = updated(old, lambda j: j["spec"].update(parallelism=4))
    assert validate_update(new, old) == []


def test_job_update_repeats_spec_errors_like_upstream():
    old = stored(job())
    new = updated(old, lambda j: j["spec"].update(parallelism=-1))
    expected = "spec.parallelism: Invalid value: -1: must be greater than or equal to 0"
    assert [str(e) for e in validate_update(new, old)] == [expected, expected]


def test_daemon_set_selector_is_immutable():
    old = stored(daemon_set())

    def change(ds):
        ds["spec"]["selector"] = {"matchLabels": {"name": "fluentd-elasticsearch", "tier": "logs"}}
        ds["spec"]["template"]["metadata"]["labels"]["tier"] = "logs"

    new = updated(old, change)
    assert [str(e) for e in validate_update(new, old)] == [
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"name":"fluentd-elasticsearch", '
        '"tier":"logs"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable'
    ]


def test_daemon_set_image_update_is_valid():
    old = stored(daemon_set())
    new = updated(old, lambda ds: ds["spec"]["template"]["spec"]["containers"][0].update(image="fluentd:v2.6"))
    assert validate_update(new, old) == []


def test_cron_job_legacy_tz_allowed_on_update_but_not_with_time_zone():
    old = stored(cron_job())
    old["spec"]["schedule"] = "TZ=UTC 0 * * * *"  # created before the TZ rule existed
    keep = updated(old, lambda c: c["spec"].update(suspend=True))
    assert validate_update(keep, old) == []
    both = updated(old, lambda c: c["spec"].update(timeZone="UTC"))
    assert [str(e) for e in validate_update(both, old)] == [
        'spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use both timeZone field and TZ or CRON_TZ in schedule'
    ]


def test_name_is_immutable():
    old = stored(cron_job())
    new = updated(old, lambda c: c["metadata"].update(name="bye"))
    assert 'metadata.name: Invalid value: "bye": field is immutable' in [str(e) for e in validate_update(new, old)]


def test_pod_spec_is_mostly_immutable():
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
           "spec": {"containers": [{"name": "c", "image": "nginx:1.26"}]}}
    old = stored(pod)
    image = updated(old, lambda p: p["spec"]["containers"][0].update(image="nginx:1.27"))
    assert validate_update(image, old) == []
    restart = updated(old, lambda p: p["spec"].update(restartPolicy="Never"))
    errors = [str(e) for e in validate_update(restart, old)]
    assert errors == [
        "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
        "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
    ]


# -- schedule parser and durations ------------------------------------------


@pytest.mark.parametrize(
    "schedule, expected",
    [
        ("*/1 * * * *", None),
        ("0 0 * * 0", None),
        ("15 10 ? * MON-FRI", None),
        ("0 0 1,15 * *", None),
        ("@hourly", None),
        ("@every 1h30m", None),
        ("CRON_TZ=UTC 0 * * * *", None),
        ("0 24 * * *", "end of range (24) above maximum (23): 24"),
        ("0 0 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("0 0 * 13 *", "end of range (13) above maximum (12): 13"),
        ("0 0 * * 7", "end of range (7) above maximum (6): 7"),
        ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
        ("*/0 * * * *", "step of range should be a positive number: */0"),
        ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
        ("*/2/3 * * * *", "too many slashes: */2/3"),
        ("@every 1x", 'failed to parse duration @every 1x: time: unknown unit "x" in duration "1x"'),
        ("@every", "unrecognized descriptor: @every"),
        ("TZ=Mars/Base 0 * * * *", "provided bad location Mars/Base: unknown time zone Mars/Base"),
    ],
)
def test_parse_schedule_error(schedule, expected):
    assert parse_schedule_error(schedule) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("5m", None), ("1.5h", None), ("0", None), ("-1s", None), ("", 'time: invalid duration ""'),
     ("abc", 'time: invalid duration "abc"'), ("10", 'time: missing unit in duration "10"')],
)
def test_go_parse_duration_error(text, expected):
    assert go_parse_duration_error(text) == expected


# -- FieldError rendering -----------------------------------------------------


@pytest.mark.parametrize(
    "error, expected",
    [
        (fe.required("spec.containers"), "spec.containers: Required value"),
        (fe.required("metadata.name", "name or generateName is required"),
         "metadata.name: Required value: name or generateName is required"),
        (fe.invalid("spec.parallelism", -1, "must be greater than or equal to 0"),
         "spec.parallelism: Invalid value: -1: must be greater than or equal to 0"),
        (fe.invalid("x", None, "d"), "x: Invalid value: null: d"),
        (fe.invalid("x", True, "d"), "x: Invalid value: true: d"),
        (fe.invalid("x", 0.5, "d"), "x: Invalid value: 0.5: d"),
        (fe.invalid("x", 1e6, "d"), "x: Invalid value: 1e+06: d"),
        (fe.invalid("x", 'say "hi"\n', "d"), 'x: Invalid value: "say \\"hi\\"\\n": d'),
        (fe.invalid("x", "日本", "d"), 'x: Invalid value: "日本": d'),
        (fe.invalid("x", {"b": "2", "a": "1"}, "d"), 'x: Invalid value: map[string]string{"a":"1", "b":"2"}: d'),
        (fe.invalid("x", ["a", "b"], "d"), 'x: Invalid value: []string{"a", "b"}: d'),
        (fe.invalid("x", fe.OMIT, "d"), "x: Invalid value: d"),
        (fe.not_supported("x", "Foo", ["OnFailure", "Never"]), 'x: Unsupported value: "Foo": supported values: "OnFailure", "Never"'),
        (fe.forbidden("x", "not allowed on this type"), "x: Forbidden: not allowed on this type"),
        (fe.duplicate("x", "a"), 'x: Duplicate value: "a"'),
        (fe.not_found("x", "data"), 'x: Not found: "data"'),
        (fe.too_long("x", 63), "x: Too long: may not be more than 63 bytes"),
        (fe.too_many("x", 21, 20), "x: Too many: 21: must have at most 20 items"),
        (fe.type_invalid("x", "a", "must be an integer"), 'x: Invalid value: "a": must be an integer'),
    ],
)
def test_field_error_rendering(error, expected):
    assert str(error) == expected
    assert error.message() == expected.split(": ", 1)[1]


def test_field_error_type_is_the_cause_reason():
    assert fe.required("a").type == "FieldValueRequired"
    assert fe.invalid("a", 1, "d").type == "FieldValueInvalid"
    assert fe.not_supported("a", "x", []).type == "FieldValueNotSupported"


def test_validation_does_not_mutate_input():
    obj = created(job(parallelism=-1))
    snapshot = copy.deepcopy(obj)
    validate_create(obj)
    assert obj == snapshot
