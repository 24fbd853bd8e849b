"""The evidence pages in Chromium: a real Inspect log imported, read, opened in Inspect's own
viewer and cited by sample in a finding, at desktop and at phone width."""

import os

import pytest
from django.urls import reverse

from findings.models import EvaluationRun, Finding
from review.services import assign_evaluator
from tests.findings.inspect_tasks import write_log
from tests.submissions.test_model_cards import HF_TEMPLATE, LLAMA_CARD, MODEL_INDEX

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def shot(page, artifacts_dir, name):
    page.screenshot(path=os.path.join(artifacts_dir, f"evidence-{name}.png"), full_page=True)


def test_an_evaluator_imports_reads_and_cites_a_real_inspect_log(
    page, live_server, sign_in, case_at, cast, artifacts_dir, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    case = case_at("testing")
    assign_evaluator(case=case, actor=cast.manager, evaluator=cast.evaluator)
    base = live_server.url
    log = write_log(tmp_path, "one_error", "eval")

    sign_in(page, cast.evaluator.email)
    page.goto(f"{base}{reverse('findings:evaluation_import', args=[case.number])}")
    page.set_input_files("input[name=log]", str(log))
    page.select_option("select[name=category]", "adversarial_robustness")
    page.click("main form button[type=submit]")
    page.wait_for_selector("[data-testid=sample-counts]")
    # One of three samples raised: the page says so rather than "3 samples, completed".
    counts = page.inner_text("[data-testid=sample-counts]")
    assert "2 of 3 completed" in counts and "1 sample in error" in counts
    assert "includes" in page.inner_text("[data-testid=scores]")
    shot(page, artifacts_dir, "1-evaluation")
    run = EvaluationRun.objects.get(case=case)
    assert run.samples.count() == 3

    # Inspect's own viewer, served by the portal, reads the log through the checked endpoint.
    page.click("[data-testid=open-viewer]")
    page.wait_for_selector("text=one_error_probe", timeout=30_000)
    shot(page, artifacts_dir, "2-inspect-viewer")

    # A finding may cite only samples that are in the log; the unknown id is named.
    page.goto(f"{base}{reverse('findings:finding_new', args=[case.number])}?evaluation={run.pk}")
    page.fill("input[name=title]", "Refusal missing for the second prompt")
    page.select_option("select[name=severity]", "medium")
    page.fill("textarea[name=description]", "Sample s3 answered where it should refuse.")
    page.fill("[name=sample_ids]", "s3, no-such-sample")
    page.click("main form button[type=submit]")
    page.wait_for_selector("text=no-such-sample")
    assert not Finding.objects.filter(case=case).exists()
    assert page.input_value("input[name=title]") == "Refusal missing for the second prompt"
    page.fill("[name=sample_ids]", "s3")
    page.click("main form button[type=submit]")
    page.wait_for_selector("[data-testid=cited-sample]")
    finding = Finding.objects.get(case=case)
    assert finding.sample_ids == ["s3"]

    # The cited sample opens with its input and the model's output.
    page.click("[data-testid=cited-sample]")
    page.wait_for_selector("text=Question 3")
    assert "Default output from mockllm/model" in page.inner_text("main")
    shot(page, artifacts_dir, "3-cited-sample")

    # At phone width the evaluation page reads without sideways scrolling of the page.
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"{base}{reverse('findings:evaluation', args=[case.number, run.pk])}")
    page.wait_for_selector("[data-testid=sample-counts]")
    shot(page, artifacts_dir, "4-evaluation-320")


def test_a_liaison_sees_an_unfilled_model_card_judged_by_its_content(
    page, live_server, sign_in, case_at, cast, artifacts_dir, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    case = case_at("documentation")
    base = live_server.url
    template_card = tmp_path / "README.md"
    template_card.write_text(HF_TEMPLATE.format(MODEL_INDEX))
    llama_card = tmp_path / "MODEL_CARD.md"
    llama_card.write_text(LLAMA_CARD)

    sign_in(page, cast.liaison.email)
    upload = f"{base}{reverse('submissions:document_upload', args=[case.number])}"
    page.goto(upload)
    page.select_option("select[name=kind]", "model_card")
    page.set_input_files("input[name=file]", str(template_card))
    page.click("main form button[type=submit]")
    documents = f"{base}{reverse('submissions:documents', args=[case.number])}"
    page.wait_for_url(documents)
    # Every heading of the template is there, but each holds only its placeholder.
    text = page.inner_text("main")
    assert "[More Information Needed]" in text and "Missing sections" in text
    shot(page, artifacts_dir, "5-template-card")
    page.goto(f"{base}{case.get_absolute_url()}")
    text = page.inner_text("main")
    assert "The model card lacks" in text
    assert "self-reported by the company" in text and "5-shot accuracy" in text
    shot(page, artifacts_dir, "6-template-card-case")

    # Meta's form (bold labels, not headings) is complete.
    page.goto(upload)
    page.select_option("select[name=kind]", "model_card")
    page.set_input_files("input[name=file]", str(llama_card))
    page.click("main form button[type=submit]")
    page.wait_for_url(documents)
    page.goto(f"{base}{case.get_absolute_url()}")
    assert "The model card lacks" not in page.inner_text("main")
    shot(page, artifacts_dir, "7-llama-card-case")
