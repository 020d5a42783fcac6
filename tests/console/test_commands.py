"""What the console lets kubectl run: the command line read as kubectl reads it (cobra's subcommand, pflag's flags
with kubectl's ``_`` → ``-`` normalisation), every subcommand and flag on an allow-list, and what kubectl finally
gets written out in one unambiguous form."""

import pytest

from kubeviz.console.commands import COMMANDS, Refused, parse


def refusal(command: str) -> str:
    with pytest.raises(Refused) as refused:
        parse(command, cluster="c1")
    return str(refused.value)


# (command line, what the refusal says): each names what is not allowed and why.
REFUSED = [
    # the server's shell and editor
    ("kubectl apply edit-last-applied job/pi", "opens no editor"),
    ("kubectl apply -f - edit-last-applied job/pi", "opens no editor"),
    ("kubectl apply -Rf - edit-last-applied job/pi", "opens no editor"),
    ("kubectl -n default apply edit-last-applied job/pi", "opens no editor"),
    ("kubectl edit job/pi", 'does not run "kubectl edit"'),
    ("kubectl create --edit -f -", "opens no editor"),
    ("kubectl create --edit=true -f -", "opens no editor"),
    ("kubectl delete -i job/pi", "asks no questions"),
    ("kubectl exec -it pi -- sh", 'does not run "kubectl exec"'),
    ("kubectl run x --image=busybox", 'does not run "kubectl run"'),
    ("kubectl proxy", 'does not run "kubectl proxy"'),
    ("kubectl cp a b", 'does not run "kubectl cp"'),
    ("kubectl debug node/x", 'does not run "kubectl debug"'),
    ("kubectl plugin list", 'does not run "kubectl plugin"'),
    ("kubectl config view", 'does not run "kubectl config"'),
    ("kubectl diff -f -", 'does not run "kubectl diff"'),
    ("kubectl", "type a kubectl command"),
    ("kubectl -n x", "type a kubectl command"),
    ("rm -rf /", 'unknown command "rm"'),
    ("sh -c 'kubectl get pods'", 'unknown command "sh"'),
    ("kubectl get pods 'unclosed", "cannot parse"),
    # files and directories of the server, in every spelling kubectl accepts
    ("kubectl create configmap x --from-file=/etc/passwd", 'does not run "kubectl create configmap"'),
    ("kubectl create secret generic x --from_file=/etc/passwd", 'does not run "kubectl create secret"'),
    ("kubectl create job x --from_file=/etc/passwd", "reads no files of the server"),
    ("kubectl create job x --from_env_file=/etc/passwd", "reads no files of the server"),
    ("kubectl patch job pi --patch_file=/etc/passwd", "reads no files of the server"),
    ("kubectl patch job pi --patch-file /etc/passwd", "reads no files of the server"),
    ("kubectl get pods --cache_dir=/tmp/x", "reads no files of the server"),
    ("kubectl get pods --cache-dir /tmp", "reads no files of the server"),
    ("kubectl get pods --profile-output=/tmp/x", "reads no files of the server"),
    ("kubectl get pods --log_file=/tmp/x", "reads no files of the server"),
    ("kubectl apply -f /etc/passwd", "reads no files of the server"),
    ("kubectl apply -fjob.yaml", "reads no files of the server"),
    ("kubectl apply -f=job.yaml", "reads no files of the server"),
    ("kubectl apply -Rf job.yaml", "reads no files of the server"),
    ("kubectl apply --filename=job.yaml", "reads no files of the server"),
    ("kubectl apply --file_name=job.yaml", "does not accept --file-name"),
    ("kubectl apply -f -,/etc/passwd", "reads no files of the server"),
    ("kubectl delete --filename x", "reads no files of the server"),
    ("kubectl apply -k dir", "reads no files of the server"),
    ("kubectl apply --kustomize=dir", "reads no files of the server"),
    ("kubectl get pods -o jsonpath-file=/etc/passwd", "-o jsonpath-file reads a file"),
    ("kubectl get pods -ojsonpath-file=/etc/passwd", "-o jsonpath-file reads a file"),
    ("kubectl get pods --output=go-template-file=/etc/passwd", "reads a file"),
    ("kubectl get pods -o custom-columns-file=/etc/passwd", "reads a file"),
    ("kubectl get pods -o templatefile=/etc/passwd", "reads a file"),
    # a value flag with a default for no value never takes the next word: -o still gets checked
    ("kubectl create -f - --dry-run -o jsonpath-file=/etc/passwd", "reads a file"),
    ("kubectl delete job pi --cascade -o go-template-file=/x", "reads a file"),
    # another server or other credentials
    ("kubectl get pods --server http://example.com", "talks to this cluster only"),
    ("kubectl get pods --server=http://x", "talks to this cluster only"),
    ("kubectl get pods -s http://example.com", "talks to this cluster only"),
    ("kubectl -shttp://x get pods", "talks to this cluster only"),
    ("kubectl get pods -As http://x", "talks to this cluster only"),
    ("kubectl --kubeconfig=/etc/passwd get pods", "talks to this cluster only"),
    ("kubectl get pods --token=abc", "talks to this cluster only"),
    ("kubectl get pods --context other", "talks to this cluster only"),
    ("kubectl get pods --cluster=x", "talks to this cluster only"),
    ("kubectl get pods --user x", "talks to this cluster only"),
    ("kubectl get pods --as admin", "talks to this cluster only"),
    ("kubectl get pods --as_group admin", "talks to this cluster only"),
    ("kubectl get pods --client-key k", "talks to this cluster only"),
    ("kubectl get pods --client_certificate k", "talks to this cluster only"),
    ("kubectl get pods --certificate-authority ca", "talks to this cluster only"),
    ("kubectl get pods --insecure-skip-tls-verify", "talks to this cluster only"),
    ("kubectl get pods --insecure_skip_tls_verify", "talks to this cluster only"),
    ("kubectl get pods --tls-server-name x", "talks to this cluster only"),
    ("kubectl logs pi --insecure_skip_tls_verify_backend", "talks to this cluster only"),
    # raw requests stay inside this cluster's API
    ("kubectl get --raw /../../sim/clusters", "--raw takes a path of this cluster's API"),
    ("kubectl get --raw /api/../../../sim/clusters", "--raw takes a path of this cluster's API"),
    ("kubectl get --raw //evil/x", "--raw takes a path of this cluster's API"),
    ("kubectl get --raw /api/%2e%2e/x", "--raw takes a path of this cluster's API"),
    ("kubectl get --raw http://evil/x", "--raw takes a path of this cluster's API"),
    ("kubectl delete --raw /sim/clusters/other", "raw requests only with kubectl get --raw"),
    ("kubectl create --raw /x -f -", "raw requests only with kubectl get --raw"),
    # a flag kubectl has but the console does not take, and one nobody has
    ("kubectl get pods --vmodule=x=9", "does not accept --vmodule with kubectl get"),
    ("kubectl get pods --no-such-flag", "does not accept --no-such-flag with kubectl get"),
    ("kubectl get pods -Z", "does not accept -Z with kubectl get"),
    ("kubectl get pods -n", "flag needs an argument"),
    ("kubectl get pods --namespace", "flag needs an argument"),
    ("kubectl " + "x" * 5000, "longer than 4096 characters"),
]


@pytest.mark.parametrize("command, says", REFUSED, ids=[c for c, _ in REFUSED])
def test_refused(command, says):
    message = refusal(command)
    assert message.startswith("error: ")
    assert says in message, message


# (command line, the arguments kubectl gets, whether it streams)
ACCEPTED = [
    ("kubectl get pods -o wide", ["get", "pods", "--output=wide"], False),
    ("k -n kube-system get ds", ["get", "--namespace=kube-system", "ds"], False),
    ("k get ds -nkube-system", ["get", "ds", "--namespace=kube-system"], False),
    ("kubectl get pods --all_namespaces", ["get", "pods", "--all-namespaces"], False),
    ("kubectl apply -f -", ["apply", "--filename=-"], False),
    ("kubectl apply -f=-", ["apply", "--filename=-"], False),
    ("kubectl apply -Rf -", ["apply", "--recursive", "--filename=-"], False),
    ("kubectl apply --server-side -f -", ["apply", "--server-side", "--filename=-"], False),
    ("kubectl apply view-last-applied job/pi", ["apply", "view-last-applied", "job/pi"], False),
    ("kubectl apply set-last-applied -f -", ["apply", "set-last-applied", "--filename=-"], False),
    ("kubectl get pods -w", ["get", "pods", "--watch"], True),
    ("kubectl get pods -Aw", ["get", "pods", "--all-namespaces", "--watch"], True),
    ("kubectl get pods --watch", ["get", "pods", "--watch"], True),
    ("kubectl get pods --watch=false", ["get", "pods", "--watch=false"], False),
    ("kubectl get pods -w=false", ["get", "pods", "--watch=false"], False),
    ("kubectl get pods --watch_only", ["get", "pods", "--watch-only"], True),
    ("kubectl logs -f pi-abc", ["logs", "--follow", "pi-abc"], True),
    ("kubectl logs -p pi-abc", ["logs", "--previous", "pi-abc"], False),
    ("kubectl logs pi-abc --tail -1", ["logs", "pi-abc", "--tail=-1"], False),
    ("kubectl get pods -o 'jsonpath={.items[*].metadata.name}'",
     ["get", "pods", "--output=jsonpath={.items[*].metadata.name}"], False),
    ("kubectl create job pi-manual --from=cronjob/pi", ["create", "job", "pi-manual", "--from=cronjob/pi"], False),
    ("kubectl create cj hello --image=busybox --schedule='*/1 * * * *' -- date",
     ["create", "cronjob", "hello", "--image=busybox", "--schedule=*/1 * * * *", "--", "date"], False),
    ("kubectl create job x --image=busybox -- cat /etc/passwd",  # a command for the simulated container
     ["create", "job", "x", "--image=busybox", "--", "cat", "/etc/passwd"], False),
    ("kubectl create quota q --hard=pods=2,count/jobs.batch=1",
     ["create", "quota", "q", "--hard=pods=2,count/jobs.batch=1"], False),
    ("kubectl create resourcequota q --hard pods=2 --scopes=NotTerminating",
     ["create", "quota", "q", "--hard=pods=2", "--scopes=NotTerminating"], False),
    ("kubectl create -f - --dry-run -o yaml", ["create", "--filename=-", "--dry-run", "--output=yaml"], False),
    ("kubectl delete job pi --cascade=orphan", ["delete", "job", "pi", "--cascade=orphan"], False),
    ("kubectl rollout status ds/fluentd", ["rollout", "status", "ds/fluentd"], False),
    ("kubectl rollout undo ds/fluentd --to-revision=1", ["rollout", "undo", "ds/fluentd", "--to-revision=1"],
     False),
    ("kubectl patch job pi -p '{\"spec\":{\"suspend\":true}}' --type merge",
     ["patch", "job", "pi", '--patch={"spec":{"suspend":true}}', "--type=merge"], False),
    ("kubectl get --raw /apis/batch/v1", ["get", "--raw=/clusters/c1/apis/batch/v1"], False),
    ("kubectl get --raw '/api/v1/pods?limit=1'", ["get", "--raw=/clusters/c1/api/v1/pods?limit=1"], False),
    ("kubectl -v=6 version", ["version", "--v=6"], False),
    ("  ", [], False),
]


@pytest.mark.parametrize("command, args, streaming", ACCEPTED, ids=[c for c, _, _ in ACCEPTED])
def test_accepted(command, args, streaming):
    parsed = parse(command, cluster="c1")
    assert (parsed.args, parsed.streaming) == (args, streaming)


def test_every_allowed_flag_is_written_out_long():
    """What kubectl gets has no short flags and no ``_`` spellings: it reads exactly what was checked."""
    for path, flags in COMMANDS.items():
        for flag in flags.values():
            if not flag.short:
                continue
            value = "-" if flag.name == "filename" else "" if flag.kind != "value" else "x"
            line = f"kubectl {' '.join(path)} -{flag.short}{value and ' ' + value}"
            args = parse(line, cluster="c1").args
            assert all(not a.startswith("-") or a.startswith("--") or a == "-" for a in args), (line, args)
