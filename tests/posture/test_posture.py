"""Posture of PCI DSS, HIPAA and GDPR requirements over a known estate; exceptions, evidence, as-of, stopped."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from compliance.evidence.services import upload_evidence
from compliance.exceptions.services import approve_exception, request_exception
from compliance.posture.services import FailingControl, PostureError, compute_posture
from frameworks.models import Requirement
from inventory.labels import apply_label_rules
from inventory.models import LabelRule
from tests.posture.conftest import T0

pytestmark = pytest.mark.django_db
# Known one-check mappings in the shipped crosswalks (asserted below, so a crosswalk change shows here first).
PCI_ONE_CHECK = {"7.2.3": {"1.1.2"}, "12.3.4": {"1.2.2"}, "2.2.5": {"2.5"}}


def requirement(posture, ref_id):
    return next(r for r in posture.requirements if r.ref_id == ref_id)


@pytest.fixture
def estate(judged_host):
    """cde-1 (pci=cde): 1.1.2 manual, 1.2.2 pass, 2.5 fail, 2.13 error; office-1 (no label): 2.5 pass."""
    cde = judged_host("cde-1", {"1.1.2": ["manual"], "1.2.2": ["pass"], "2.5": ["fail"], "2.13": ["error"],
                                "4.4": ["pass@web-1", "fail@stopped"]}, labels={"pci": "cde"})
    office = judged_host("office-1", {"1.1.2": ["pass"], "1.2.2": ["pass"], "2.5": ["pass"], "2.13": ["pass"],
                                      "4.4": ["pass@web-2"]}, labels={})
    return cde, office


def test_it_knows_the_one_check_mappings_it_relies_on(catalogs):
    from frameworks.services import current_framework, mapped_source_ref_ids

    mapped = mapped_source_ref_ids(current_framework("pci-dss-4.0"))
    for ref_id, controls in PCI_ONE_CHECK.items():
        assert mapped[ref_id] == controls


def test_it_gives_pci_dss_statuses_over_the_cde_scope(estate):
    posture = compute_posture("pci-dss-4.0", "pci=cde")
    assert [h.hostname for h in posture.hosts] == ["cde-1"]
    assert requirement(posture, "7.2.3").status == "needs_evidence"
    assert requirement(posture, "12.3.4").status == "passing"
    failing = requirement(posture, "2.2.5")
    assert failing.status == "failing"
    assert failing.counts.failing == 1
    assert failing.failing == [FailingControl(control="2.5", hosts=1, targets=1)]
    unmapped = next(r for r in posture.requirements if r.assessable and not r.controls)
    assert unmapped.status == "not_covered"
    assert posture.summary.hosts == 1
    assert posture.summary.assessable == Requirement.objects.filter(framework__slug="pci-dss-4.0", assessable=True).count()


def test_it_scopes_hosts_by_label_and_by_label_rules(estate):
    assert requirement(compute_posture("pci-dss-4.0", "!pci"), "2.2.5").status == "passing"
    LabelRule.objects.create(key="pci", value="cde", fact="hostname", pattern="office-*")
    apply_label_rules()
    both = compute_posture("pci-dss-4.0", "pci=cde")
    assert sorted(h.hostname for h in both.hosts) == ["cde-1", "office-1"]
    assert requirement(both, "2.2.5").counts.passing == 1


def test_it_gives_hipaa_and_gdpr_statuses(estate):
    hipaa = compute_posture("hipaa-security-rule", "pci=cde")
    assert requirement(hipaa, "164.312(e)(2)(i)").status == "failing"  # 2.5
    assert requirement(hipaa, "164.308(a)(1)(ii)(D)").status == "needs_evidence"  # 2.13: error is never a pass
    gdpr = compute_posture("gdpr", "pci=cde")
    assert requirement(gdpr, "33(5)").status == "needs_evidence"  # 2.13
    # 4.4 fails only on a stopped container: listed, not counted, by default.
    art = requirement(gdpr, "32(1)(d)")
    assert art.status == "passing" and art.stopped_failing == 1
    assert requirement(compute_posture("gdpr", "pci=cde", include_stopped=True), "32(1)(d)").status == "failing"


def test_it_rolls_failures_up_the_tree(estate):
    posture = compute_posture("pci-dss-4.0", "pci=cde")
    parents = {r.ref_id: r for r in posture.requirements}
    node = parents["2.2.5"]
    while node.parent:
        node = parents[node.parent]
        assert node.status == "failing"
    group = next(g for g in posture.summary.groups if g.ref_id == node.ref_id)
    assert group.failing >= 1


def test_it_excepts_a_failure_until_the_exception_expires(estate, carol, alice):
    cde, _ = estate
    with time_machine.travel(T0 + datetime.timedelta(days=1), tick=False):
        exception = request_exception(by=carol, control="2.5", scope_kind="host", scope_host=cde.host,
                                      justification="legacy daemon, isolated", risk_rating="medium",
                                      expires_at=T0 + datetime.timedelta(days=11))
        approve_exception(exception.pk, by=alice)
        excepted = requirement(compute_posture("pci-dss-4.0", "pci=cde"), "2.2.5")
        assert excepted.status == "passing"
        assert excepted.counts.excepted == 1 and excepted.counts.failing == 0
        assert excepted.exceptions == [exception.pk]
    with time_machine.travel(T0 + datetime.timedelta(days=11, seconds=1), tick=False):
        expired = requirement(compute_posture("pci-dss-4.0", "pci=cde"), "2.2.5")
        assert expired.status == "failing" and expired.counts.excepted == 0


def test_it_excepts_only_the_containers_a_pattern_names(judged_host, carol, alice):
    judged_host("cde-2", {"5.5": ["fail@web-1", "fail@db-1"]}, labels={"pci": "cde"})
    with time_machine.travel(T0 + datetime.timedelta(days=1), tick=False):
        exception = request_exception(by=carol, control="5.5", scope_kind="container", scope_container_pattern="web-*",
                                      justification="needs the host mount", risk_rating="low",
                                      expires_at=T0 + datetime.timedelta(days=30))
        approve_exception(exception.pk, by=alice)
        posture = compute_posture("cis-docker-1.6.0", "pci=cde")
        node = requirement(posture, "5.5")
        assert (node.counts.failing, node.counts.excepted, node.status) == (1, 1, "failing")
        assert posture.matched_exceptions == {exception.pk}


def test_it_attests_manual_results_with_valid_evidence(estate, carol):
    cis_112 = Requirement.objects.get(framework__slug="cis-docker-1.6.0", ref_id="1.1.2")
    with time_machine.travel(T0 + datetime.timedelta(days=1), tick=False):
        evidence = upload_evidence(by=carol, kind="note", title="docker group reviewed", description="alice, bob: ops",
                                   collected_at=T0, valid_until=T0 + datetime.timedelta(days=90),
                                   requirements=[cis_112], scope_selector="pci=cde")
        attested = requirement(compute_posture("pci-dss-4.0", "pci=cde"), "7.2.3")
        assert attested.status == "passing"
        assert attested.counts.attested == 1 and attested.evidence == [evidence.pk]
    with time_machine.travel(T0 + datetime.timedelta(days=91), tick=False):
        assert requirement(compute_posture("pci-dss-4.0", "pci=cde"), "7.2.3").status == "needs_evidence"


def test_it_shows_the_posture_as_it_stood_before_a_change(judged_host):
    judged_host("cde-1", {"2.5": ["fail"]}, labels={"pci": "cde"}, at=T0)
    judged_host("cde-1", {"2.5": ["pass"]}, labels={"pci": "cde"}, at=T0 + datetime.timedelta(days=2))
    assert requirement(compute_posture("pci-dss-4.0", "pci=cde"), "2.2.5").status == "passing"
    before = compute_posture("pci-dss-4.0", "pci=cde", as_of=T0 + datetime.timedelta(days=1))
    assert requirement(before, "2.2.5").status == "failing"
    empty = compute_posture("pci-dss-4.0", "pci=cde", as_of=T0 - datetime.timedelta(days=1))
    assert empty.summary.hosts_without_results == 1
    assert requirement(empty, "2.2.5").status == "needs_evidence"


def test_it_refuses_an_unknown_framework_or_a_bad_scope(catalogs):
    with pytest.raises(PostureError, match="framework"):
        compute_posture("iso-27001")
    with pytest.raises(PostureError, match="scope"):
        compute_posture("pci-dss-4.0", "a=b=c")
