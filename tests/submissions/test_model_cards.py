"""The model card check against cards in the shapes companies publish them.

Each card below is written after a real published form: the unfilled Hugging
Face template, Meta's Llama cards (bold labels), OpenAI's Whisper and GPT-2
cards, a fine-tune's auto-generated card, and Hub front matter with
model-index results.
"""

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import create_api_token
from core.errors import BadInput
from submissions import services
from submissions.modelcard import REQUIRED_SECTIONS, check_model_card
from submissions.models import DocumentKind

ALL = [s.name for s in REQUIRED_SECTIONS]

HF_TEMPLATE = """---
# For reference on model card metadata, see the spec: https://github.com/huggingface/hub-docs
{}
---

# Model Card for Model ID

<!-- Provide a quick summary of what the model is/does. -->

## Model Details

### Model Description

<!-- Provide a longer summary of what this model is. -->

- **Developed by:** [More Information Needed]
- **Model type:** [More Information Needed]
- **License:** [More Information Needed]

## Uses

<!-- Address questions around how the model is intended to be used. -->

### Direct Use

[More Information Needed]

### Out-of-Scope Use

<!-- This section addresses misuse, malicious use, and uses the model will not work well for. -->

[More Information Needed]

## Bias, Risks, and Limitations

[More Information Needed]

## Training Details

### Training Data

[More Information Needed]

## Evaluation

### Testing Data, Factors & Metrics

[More Information Needed]

### Results

[More Information Needed]

## Environmental Impact

- **Hardware Type:** [More Information Needed]
- **Hours used:** [More Information Needed]

## Technical Specifications [optional]

### Model Architecture and Objective

[More Information Needed]
"""

LLAMA_CARD = """## Model Details

Meta developed and released the Llama 3 family of large language models.

**Model developers** Meta

**Model Architecture** Llama 3 is an auto-regressive language model that uses an optimized
transformer architecture.

## Intended Use

**Intended Use Cases** Llama 3 is intended for commercial and research use in English.

**Out-of-scope** Use in any manner that violates applicable laws or regulations. Use in
languages other than English.

## Hardware and Software

**Training Factors** We used custom training libraries and Meta's Research SuperCluster.

**Carbon Footprint Pretraining** utilized a cumulative 7.7M GPU hours of computation.

**Training Energy Use** Training utilized 7.7M GPU hours on H100-80GB (TDP of 700W).

## Training Data

**Overview** Llama 3 was pretrained on over 15 trillion tokens of publicly available data.

## Benchmarks

In this section, we report the results for Llama 3 models on standard automatic benchmarks.

| Category | Benchmark | Llama 3 8B |
|---|---|---|
| General | MMLU (5-shot) | 66.6 |

## Ethical Considerations and Limitations

Llama 3 is a new technology that carries risks with use. Testing has been in English.
"""

WHISPER_CARD = """# Whisper

## Model details

Whisper is a sequence-to-sequence transformer trained on 680,000 hours of audio.

## Model Use

### Evaluated Use

The primary intended users of these models are AI researchers. We strongly caution
against using Whisper models to transcribe recordings of individuals taken without their
consent, and against use in high-risk domains.

## Training Data

The models are trained on 680,000 hours of audio and the corresponding transcripts.

## Performance and Limitations

Our studies show improved robustness to accents, background noise and technical language.
The models may hallucinate text not actually spoken in the audio.
"""

GPT2_CARD = """# GPT-2

## Model Details

**Model Description:** GPT-2 is a transformers model pretrained on a large corpus of English.

## Uses

#### Direct Use

The primary intended users are AI researchers and practitioners.

#### Misuse and Out-of-scope Use

Because large-scale language models do not distinguish fact from fiction, we don't support
use-cases that require the generated text to be true.

## Risks, Limitations and Biases

The training data contains a lot of unfiltered content from the internet.

## Training

#### Training Data

The OpenAI team scraped all the web pages from outbound links on Reddit (WebText).

## Evaluation results

The model achieves the following results without any fine-tuning (zero-shot): LAMBADA 35.13.
"""

TRAINING_RESULTS_CARD = """# distilbert-finetuned

## Model description

A fine-tuned version of distilbert-base-uncased, a transformer encoder.

## Intended uses & limitations

Sentiment classification of English product reviews; not for other languages.

## Training and evaluation data

IMDB reviews.

## Training procedure

### Training results

| Epoch | Loss |
|---|---|
| 1 | 0.23 |
"""

MODEL_INDEX = """model_name: atlas-7b
model-index:
- name: atlas-7b
  results:
  - task:
      type: text-generation
      name: Text Generation
    dataset:
      name: MMLU
      type: cais/mmlu
      split: test
    metrics:
    - type: accuracy
      name: 5-shot accuracy
      value: 66.6
"""


def test_the_unfilled_hugging_face_template_is_judged_incomplete():
    check = check_model_card(HF_TEMPLATE.format("license: other"))
    assert check.missing == ALL
    assert any("[More Information Needed]" in p for p in check.problems)
    assert not check.complete


def test_a_llama_card_with_bold_labels_is_judged_complete():
    check = check_model_card(LLAMA_CARD)
    assert check.missing == [] and check.problems == []


def test_a_whisper_card_finds_model_use_and_evaluated_use():
    check = check_model_card(WHISPER_CARD)
    assert check.missing == ["Compute and environmental impact"]


def test_a_gpt2_card_finds_its_sections_and_misses_only_compute():
    check = check_model_card(GPT2_CARD)
    assert check.missing == ["Compute and environmental impact"]


def test_training_results_do_not_count_as_evaluation():
    check = check_model_card(TRAINING_RESULTS_CARD)
    assert "Evaluation" not in check.missing  # "Training and evaluation data" names it
    check = check_model_card(TRAINING_RESULTS_CARD.replace("Training and evaluation data", "Data"))
    assert "Evaluation" in check.missing


def test_broken_front_matter_is_said_in_plain_words_and_the_sections_are_still_checked():
    check = check_model_card("---\nlicense: [unclosed\ntags: x\n---\n" + LLAMA_CARD)
    assert check.missing == []
    (problem,) = check.problems
    assert "metadata block" in problem and "not valid YAML" in problem


def test_a_model_index_without_names_is_said_without_the_librarys_hints():
    card = "---\nmodel-index:\n- results:\n  - metrics: []\n---\n" + LLAMA_CARD
    (problem,) = check_model_card(card).problems
    assert "model-index" in problem and "name" in problem
    assert "ignore_metadata_errors" not in problem and "own risk" not in problem


def test_model_index_results_are_read_as_self_reported_metrics():
    check = check_model_card(HF_TEMPLATE.format(MODEL_INDEX))
    assert check.self_reported == [
        {
            "model": "atlas-7b",
            "task": "Text Generation",
            "dataset": "MMLU",
            "split": "test",
            "metric": "5-shot accuracy",
            "value": "66.6",
        }
    ]


def test_a_utf16_card_with_a_byte_order_mark_is_read(case_at, cast):
    case = case_at("documentation")
    document = services.upload_document(
        case=case,
        actor=cast.liaison,
        kind=DocumentKind.MODEL_CARD,
        file=ContentFile(LLAMA_CARD.encode("utf-16")),
        original_name="README.md",
    )
    assert document.card_missing_sections == [] and document.card_problems == []


def test_a_utf16_card_without_a_byte_order_mark_is_refused_with_what_to_do(case_at, cast):
    case = case_at("documentation")
    try:
        services.upload_document(
            case=case,
            actor=cast.liaison,
            kind=DocumentKind.MODEL_CARD,
            file=ContentFile(LLAMA_CARD.encode("utf-16-le")),
            original_name="README.md",
        )
    except BadInput as refusal:
        assert "UTF-16 text without a byte-order mark" in refusal.blockers[0]
    else:
        raise AssertionError("a UTF-16 card without a byte-order mark was accepted")
    assert not case.documents.filter(kind=DocumentKind.MODEL_CARD, version_number__gt=1).exists()


def test_the_web_upload_shows_the_card_problems_and_self_reported_results(case_at, cast, client):
    case = case_at("documentation")
    client.force_login(cast.liaison)
    card = HF_TEMPLATE.format(MODEL_INDEX).encode()
    response = client.post(
        reverse("submissions:document_upload", kwargs={"number": case.number}),
        {"kind": "model_card", "file": SimpleUploadedFile("README.md", card, "text/markdown")},
    )
    assert response.status_code == 302
    page = client.get(case.get_absolute_url()).content.decode()
    assert "[More Information Needed]" in page
    assert "self-reported by the company" in page and "5-shot accuracy" in page


def test_the_api_gives_card_problems_beside_the_missing_sections(case_at, cast):
    case = case_at("documentation")
    _, raw = create_api_token(user=cast.liaison, name="ci", read_only=False)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    broken = ("---\nlicense: [unclosed\n---\n" + GPT2_CARD).encode()
    response = api.post(
        f"/api/v1/cases/{case.number}/documents/",
        {"kind": "model_card", "file": SimpleUploadedFile("README.md", broken, "text/markdown")},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["card_missing_sections"] == ["Compute and environmental impact"]
    assert len(body["card_problems"]) == 1 and "metadata block" in body["card_problems"][0]
    assert "ModelCardData" not in body["card_problems"][0]
