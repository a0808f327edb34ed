"""Templates and configuration in Norwegian Bokmål and Ukrainian (issue #19): the template
screens, flashes and refusals follow the reader's language (Accept-Language for a user who
has chosen none); the three masters' settings, help texts, options and map entries come from
their ``x-i18n`` labels on every screen that shows a configuration (template preview and
defaults form, compare, the program's config form, the upgrade review, a campaign's config);
a schema's validation messages are translated with their limits in the reader's number format;
plurals take Ukrainian's three forms; and a schema whose ``x-i18n`` has another shape cannot
be saved or published."""
from __future__ import annotations

import copy
import json
import re

import pytest

from portal.configuration.labels import limits_text
from tests.helpers import NB, UK, browser_form, csrf_token


def _page(response, status: int = 200) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[-3000:]
    return response.get_data(as_text=True)


def _visible(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- the template screens ----------------------------------------------------------------------
def test_the_template_list_in_norwegian_and_ukrainian(pm_client, make):
    make.template("language", name="Language Nordics", status="active")
    nb = _page(pm_client.get("/templates/", headers=NB))
    assert "Programmaler" in nb and "Ny mal" in nb and "Alle kategorier" in nb and "Siste versjon" in nb
    assert "Program templates" not in nb and "New template" not in nb
    assert "Language Nordics" in nb  # a name people typed stays as typed
    uk = _page(pm_client.get("/templates/", headers=UK))
    assert "Шаблони програм" in uk and "Новий шаблон" in uk and "Усі категорії" in uk
    assert "Program templates" not in uk
    empty = _page(pm_client.get("/templates/?q=no-such-template", headers=NB))
    assert "Ingen maler passer med disse filtrene." in empty


def test_a_masters_preview_reads_its_settings_in_the_readers_language(pm_client, make):
    template = make.template("mentorship", status="active")
    nb = _page(pm_client.get(f"/templates/{template.key}", headers=NB))
    assert "Standardkonfigurasjon" in nb and "Versjoner" in nb and "Ny versjon" in nb
    assert "Standard varighet per økt (minutter)" in nb and "Anbefalt hyppighet" in nb and "Ukentlig" in nb
    assert "Maks antall mentees per mentor" in nb and "Avanserte innstillinger" in nb
    assert "Default session duration" not in nb and "Recommended frequency" not in nb
    uk = _page(pm_client.get(f"/templates/{template.key}", headers=UK))
    assert "Типова конфігурація" in uk and "Стандартна тривалість заняття (хвилини)" in uk and "Щотижня" in uk
    assert "Мінімальний вік" in uk and "Default session duration" not in uk


@pytest.mark.parametrize("master", ["mentorship", "language", "buddy"])
def test_every_masters_defaults_form_is_norwegian_and_ukrainian(pm_client, make, master):
    draft = make.template(master, status="draft")
    for headers, sample in ((NB, {"mentorship": "Milepæler", "language": "Emnebibliotek", "buddy": "Koblingsvekter"}),
                            (UK, {"mentorship": "Етапи", "language": "Бібліотека тем", "buddy": "Ваги підбору пар"})):
        body = _page(pm_client.get(f"/templates/{draft.key}/v1/edit", headers=headers))
        assert sample[master] in body
        labels = re.findall(r'<(?:label class="field__label"|legend class="cfg-legend")[^>]*>([^<]+)<', body)
        english = {"mentorship": "Sessions", "language": "Sessions", "buddy": "Matching"}[master]
        assert labels and english not in labels, labels
    nb = _page(pm_client.get(f"/templates/{draft.key}/v1/edit", headers=NB))
    assert "Lagre standardverdier" in nb and "Lagre detaljer" in nb and "Skjema (JSON)" in nb


def test_compare_in_ukrainian_names_settings_options_and_limits(pm_client, make):
    v1 = make.template("language", status="deprecated")
    schema, defaults = copy.deepcopy(v1.config_schema), copy.deepcopy(v1.default_config)
    defaults["session"]["recommendedFrequency"] = "weekly"
    schema["properties"]["session"]["properties"]["topicLibrary"]["minItems"] = 2
    make.template("language", key=v1.key, version=2, status="active", config_schema=schema, default_config=defaults,
                  ui_schema=copy.deepcopy(v1.ui_schema))
    uk = _page(pm_client.get(f"/templates/{v1.key}/compare?base=1&other=2", headers=UK))
    table = _visible(uk.split("<tbody>", 1)[1].split("</tbody>", 1)[0])
    assert "Заняття › Рекомендована частота" in table and "Через день" in table and "Щотижня" in table
    assert "Змінено типове значення" in table and "Змінено допустимі значення" in table
    assert "щонайменше 2 записи" in table
    assert "Порівняти версії" in uk and "Default changed" not in table
    nb = _visible(_page(pm_client.get(f"/templates/{v1.key}/compare?base=1&other=2", headers=NB)))
    assert "Økter › Anbefalt hyppighet" in nb and "Annenhver dag" in nb and "minst 2 oppføringer" in nb


def test_limits_have_ukrainian_plural_forms(app):
    with app.test_request_context(headers=UK):
        assert [limits_text({"minItems": n}) for n in (1, 2, 5, 21)] == [
            "щонайменше 1 запис", "щонайменше 2 записи", "щонайменше 5 записів", "щонайменше 21 запис"]
        assert [limits_text({"maxLength": n}) for n in (1, 2, 5, 21)] == [
            "не більше 1 символу", "не більше 2 символів", "не більше 5 символів", "не більше 21 символу"]
    with app.test_request_context(headers=NB):
        assert [limits_text({"minItems": n}) for n in (1, 2)] == ["minst 1 oppføring", "minst 2 oppføringer"]
        assert limits_text({"minimum": 0.5, "maximum": 1000}) == "0,5–1\u00a0000"


# --- flashes, refusals and validation messages -------------------------------------------------
def test_a_saved_draft_is_flashed_in_norwegian(pm_client, make):
    draft = make.template(status="draft")
    token = csrf_token(pm_client, "/home")
    response = pm_client.post(f"/templates/{draft.key}/v1/details", headers=NB, data={
        "csrf_token": token, "lock_version": draft.lock_version, "name": "Mentorordning Vest",
        "category": "mentorship", "description": "", "tags": ""})
    assert response.status_code == 303
    body = _page(pm_client.get(response.headers["Location"], headers=NB))
    assert "Detaljene er lagret." in body and "Details saved." not in body


def test_editing_an_active_version_is_refused_in_ukrainian(pm_client, make):
    active = make.template(status="active")
    token = csrf_token(pm_client, "/home")
    response = pm_client.post(f"/templates/{active.key}/v1/details", headers=UK, data={
        "csrf_token": token, "lock_version": active.lock_version, "name": "Sneaky", "category": "mentorship"})
    body = _page(response, 422)
    assert "редагувати можна лише чернетки" in body and "only drafts can be edited" not in body


def test_a_bad_default_is_refused_with_a_translated_message_and_limit(pm_client, make):
    draft = make.template(status="draft")
    url = f"/templates/{draft.key}/v1/edit"
    form = browser_form(_page(pm_client.get(url, headers=NB)))
    form["cfg.session.defaultDurationMinutes"] = "500"
    form["cfg.impact.decayFactorMonthly"] = "1.5"
    nb = _page(pm_client.post(f"/templates/{draft.key}/v1/defaults", data=form, headers=NB), 422)
    assert "500 er større enn maksimum på 180" in nb and "1,5 er større enn maksimum på 1" in nb
    assert "greater than the maximum" not in nb
    uk = _page(pm_client.post(f"/templates/{draft.key}/v1/defaults", data=form, headers=UK), 422)
    assert "500 більше за максимум 180" in uk


def test_a_broken_cross_field_rule_speaks_the_readers_language(pm_client, make):
    program = make.program(template=make.template("language"))
    url = f"/programs/{program.id}/config"
    form = browser_form(_page(pm_client.get(url, headers=UK)))
    form["cfg.session.minSessionsPerWeek"] = "6"
    body = _page(pm_client.post(url, data=form, headers=UK), 422)
    assert "Мінімум занять на тиждень не може перевищувати максимум занять на тиждень." in body
    assert "Мінімум занять на тиждень" in body and "Minimum sessions per week" not in body


def test_publishing_a_draft_whose_translations_have_another_shape_is_refused(app, pm_client, make):
    schema = copy.deepcopy(make.template(status="draft").config_schema)
    schema["properties"]["session"]["x-i18n"] = {"sv": {"title": "Sessioner"}}
    draft = make.template(status="draft", config_schema=schema)
    token = csrf_token(pm_client, "/home")
    refused = pm_client.post(f"/templates/{draft.key}/v1/publish", headers=NB, data={
        "csrf_token": token, "lock_version": draft.lock_version, "confirmed": "yes"})
    body = _page(refused, 422)
    assert "Kan ikke publisere versjon 1" in body and "properties.session.x-i18n.sv" in body
    assert "x-i18n tar bare språkene nb, uk." in body


def test_the_schema_editor_saves_translated_labels_and_refuses_a_bad_ui_schema_block(app, pm_client, make):
    draft = make.template(status="draft")
    token = csrf_token(pm_client, "/home")
    schema = copy.deepcopy(draft.config_schema)
    schema["properties"]["session"]["properties"]["maxSessionsPerMonth"]["x-i18n"]["nb"]["title"] = "Høyst økter i måneden"
    url = f"/templates/{draft.key}/v1/schema"
    saved = pm_client.post(url, data={"csrf_token": token, "lock_version": draft.lock_version,
                                      "config_schema": json.dumps(schema), "ui_schema": json.dumps(draft.ui_schema)})
    assert saved.status_code == 303, saved.get_data(as_text=True)[-2000:]
    assert "Høyst økter i måneden" in _page(pm_client.get(f"/templates/{draft.key}/v1/edit", headers=NB))
    ui = copy.deepcopy(draft.ui_schema)
    ui["session"]["x-i18n"] = {"nb": {"help": "Hjelp"}}
    edit = _page(pm_client.get(f"/templates/{draft.key}/v1/edit"))
    refused = pm_client.post(url, data={"csrf_token": token, "lock_version": browser_form(edit)["lock_version"],
                                        "config_schema": json.dumps(schema), "ui_schema": json.dumps(ui)})
    assert "session.x-i18n.nb.help" in _page(refused, 422)


# --- everywhere else a configuration is shown ----------------------------------------------------
def test_the_programs_config_form_and_upgrade_review_in_norwegian(pm_client, make):
    v1 = make.template("language", status="deprecated")
    program = make.program(template=v1, config_overrides={"session": {"defaultDurationMinutes": 100,
                                                                      "recommendedFrequency": "weekly"}})
    config = _page(pm_client.get(f"/programs/{program.id}/config", headers=NB))
    assert "Anbefalt hyppighet" in config and "Annenhver dag" in config and "Arvet: Annenhver dag" in config
    assert "satt i programmet" in config and "fra malen" in config
    schema = copy.deepcopy(v1.config_schema)
    schema["properties"]["session"]["properties"]["defaultDurationMinutes"]["maximum"] = 90
    make.template("language", key=v1.key, version=2, status="active", config_schema=schema,
                  ui_schema=copy.deepcopy(v1.ui_schema))
    review = _page(pm_client.get(f"/programs/{program.id}/upgrade", headers=NB))
    assert "Økter › Standard varighet per økt (minutter)" in review and "Ugyldig i den nye versjonen" in review
    assert "Økter › Anbefalt hyppighet" in review and "Ukentlig" in review


def test_a_campaigns_config_in_ukrainian(admin_a_client, make, tenants):
    campaign = make.campaign(tenants["company_a"], make.program(template=make.template("buddy")))
    body = _page(admin_a_client.get(f"/campaigns/{campaign.id}/config", headers=UK))
    assert "Алгоритм підбору пар" in body and "Комбінований" in body and "Вимога щодо місця проживання" in body
    assert "Matching algorithm" not in body and "Location preference" not in body


def test_english_readers_keep_the_schemas_own_words(pm_client, make):
    template = make.template("mentorship", status="active")
    body = _page(pm_client.get(f"/templates/{template.key}", headers={"Accept-Language": "en"}))
    assert "Default session duration (minutes)" in body and "Weekly" in body and "Økter" not in body
