"""Unit tests of the `cluster-info dump` stream splitter and log-section parser."""

from __future__ import annotations

import json

import pytest

from crashloop_exporter.errors import InputError
from crashloop_exporter.inputs.documents import iter_documents, iter_objects
from crashloop_exporter.inputs.dump import LogSection, ObjectText, parse_log_sections, split_dump_stream
from tests.cli.dumps import SEED_LOG, dump_stream, kubectl_json, log_section, node, payment_service_pod
from tests.support.kubeobjects import typed_list


def _split(text: str) -> tuple[list[ObjectText | LogSection], list[str]]:
    warnings: list[str] = []
    return list(split_dump_stream(text, where="dump.txt", warn=warnings.append)), warnings


def test_stream_splits_into_lists_and_log_sections_in_order() -> None:
    """A kubectl stream yields its JSON runs and one LogSection per container, in order."""
    ps = payment_service_pod()
    text = dump_stream(nodes=[node("node-a")], pods=[ps],
                       logs={("production", "payment-service-7d9f4b8c6-xk2p9", "payment-service"): SEED_LOG})
    parts, warnings = _split(text)
    assert warnings == []
    assert [type(p).__name__ for p in parts] == ["ObjectText", "LogSection"]
    section = parts[1]
    assert isinstance(section, LogSection)
    assert (section.namespace, section.pod, section.container) == (
        "production", "payment-service-7d9f4b8c6-xk2p9", "payment-service")
    assert section.text == SEED_LOG
    objects = parts[0]
    assert isinstance(objects, ObjectText)
    kinds = [d.value["kind"] for d in iter_documents(objects.text, file="dump.txt", warn=warnings.append)]
    assert kinds == ["NodeList", "EventList", "ReplicationControllerList", "ServiceList", "DaemonSetList",
                     "DeploymentList", "ReplicaSetList", "PodList"]


def test_json_runs_after_log_sections_keep_their_line_numbers() -> None:
    """Object text that follows a log section reports lines counted from the start of the stream."""
    text = (kubectl_json(typed_list("NodeList", [])) + log_section("a", "p", "c", "x\ny\n")
            + '{"kind": "EventList", "items": [}\n')
    parts, _ = _split(text)
    tail = parts[-1]
    assert isinstance(tail, ObjectText)
    expected = r"^dump\.txt document 2 \(line 13 column 33\): invalid JSON: Expecting value$"
    with pytest.raises(InputError, match=expected):
        list(iter_documents(tail.text, file="dump.txt", warn=print, base_line=tail.line, first_index=2))


def test_empty_logs_give_an_empty_section() -> None:
    """A container with no output has START immediately followed by END: an empty log, not a lost one."""
    parts, warnings = _split(log_section("ns", "p", "a", "") + log_section("ns", "p", "b", "only line\n"))
    assert warnings == []
    assert [(s.container, s.text) for s in parts if isinstance(s, LogSection)] == [("a", ""), ("b", "only line\n")]


def test_log_without_trailing_newline_ends_where_the_marker_starts() -> None:
    """kubectl appends END right after the log bytes, so a log without a final newline ends mid-line."""
    text = ("==== START logs for container app of pod ns/p ====\n"
            "panic: boom"
            "==== END logs for container app of pod ns/p ====\n"
            + log_section("ns", "p", "sidecar", "ok\n"))
    sections = parse_log_sections(text, where="logs.txt", warn=print)
    assert [(s.container, s.text) for s in sections] == [("app", "panic: boom"), ("sidecar", "ok\n")]


def test_marker_lines_for_another_pod_inside_a_log_stay_in_that_log() -> None:
    """A log printing marker-like lines of another pod (e.g. a CI job cat-ing a dump) is not cut there."""
    inner = (
        "step 1\n"
        "==== END logs for container app of pod other/pod-x ====\n"
        "==== START logs for container evil of pod other/pod-y ====\n"
        "==== END logs for container app of pod ns/p ==== (not at end of line)\n"
        "step 2\n"
    )
    sections = parse_log_sections(log_section("ns", "p", "app", inner), where="logs.txt", warn=print)
    assert len(sections) == 1
    assert sections[0].text == inner


def test_section_without_end_marker_runs_to_next_start_with_a_warning() -> None:
    """A dump cut short (no END marker) keeps its log up to the next section and says so."""
    text = "==== START logs for container a of pod ns/p ====\nfirst\nsecond\n" + log_section("ns", "p", "b", "x\n")
    warnings: list[str] = []
    sections = parse_log_sections(text, where="logs.txt", warn=warnings.append)
    assert [(s.container, s.text) for s in sections] == [("a", "first\nsecond\n"), ("b", "x\n")]
    assert len(warnings) == 1
    assert "logs.txt line 1: no END marker for container a of pod ns/p" in warnings[0]


def test_request_error_body_is_recognised() -> None:
    """kubectl's `Request log error: ...` stand-in is flagged, so it is never read as the app's log."""
    msg = 'Request log error: container "worker" in pod "w-1" is waiting to start: PodInitializing\n'
    section = parse_log_sections(log_section("ns", "w-1", "worker", msg), where="logs.txt", warn=print)[0]
    assert section.is_request_error
    normal = parse_log_sections(log_section("ns", "w-1", "worker", "Request log error: in my app\nmore\n"),
                                where="logs.txt", warn=print)[0]
    assert not normal.is_request_error


def test_text_outside_sections_in_logs_file_is_reported() -> None:
    """Stray text in a logs.txt is skipped with a warning naming the file and line."""
    warnings: list[str] = []
    sections = parse_log_sections("garbage line\n" + log_section("ns", "p", "a", "x\n"), where="logs.txt",
                                  warn=warnings.append)
    assert [s.container for s in sections] == ["a"]
    assert warnings == ["warning: logs.txt line 1: skipped text outside any log section: 'garbage line'"]


def test_concatenated_json_values_and_stray_lines() -> None:
    """JSON values back to back are all read; a `Warning:` line between them is skipped with a warning."""
    text = kubectl_json({"kind": "PodList", "items": []}) + "Warning: deprecated\n" + json.dumps({"kind": "Pod"})
    warnings: list[str] = []
    docs = list(iter_documents(text, file="f.json", warn=warnings.append))
    assert [d.value["kind"] for d in docs] == ["PodList", "Pod"]
    assert warnings == ["warning: f.json line 5: skipped text that is not JSON: 'Warning: deprecated'"]


def test_yaml_multi_doc_keeps_timestamps_as_strings() -> None:
    """Unquoted RFC 3339 timestamps in YAML stay strings (what `parse` reads), across documents."""
    text = "kind: Pod\nmetadata:\n  creationTimestamp: 2024-03-15T02:11:28Z\n---\n---\nkind: Event\n"
    docs = list(iter_documents(text, file="f.yaml", warn=print))
    assert [d.value["kind"] for d in docs] == ["Pod", "Event"]
    assert docs[0].value["metadata"]["creationTimestamp"] == "2024-03-15T02:11:28Z"
    assert docs[1].where == "f.yaml document 3 (line 6)"


def test_typed_list_items_get_the_list_kind() -> None:
    """Items of a PodList have no kind on the wire; they are read as Pods, with items[i] locations."""
    (doc,) = iter_documents(kubectl_json(typed_list("PodList", [payment_service_pod()])), file="pods.json",
                            warn=print)
    items = list(iter_objects(doc))
    assert [(i.kind, i.where) for i in items] == [("Pod", "pods.json document 1 (line 1) items[0]")]


def test_console_noise_before_a_json_dump_is_one_warning() -> None:
    """A dump saved with 2>&1 (or pasted from a terminal) starting with non-JSON lines is still read as JSON."""
    text = ("W1117 10:09:25.556084 1663 warnings.go:70] v1 ComponentStatus is deprecated\n"
            "PS C:\\> kubectl cluster-info dump\n" + kubectl_json(typed_list("NodeList", [node("minikube")])))
    warnings: list[str] = []
    docs = list(iter_documents(text, file="dump.txt", warn=warnings.append))
    assert [d.value["kind"] for d in docs] == ["NodeList"]
    assert warnings == ["warning: dump.txt lines 1-2: skipped 2 lines that are not JSON, starting with "
                        "'W1117 10:09:25.556084 1663 warnings.go:70] v1 ComponentStatus is deprecated'"]
