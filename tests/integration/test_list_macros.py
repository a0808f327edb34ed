"""The index pages' macros (templates/_lists.html) rendered from plain field data: the
filter bar's labels, names and selected options, its htmx wiring, and the results table
with its empty row and keyset pager."""
from __future__ import annotations

from html.parser import HTMLParser

from flask import render_template_string

FILTER_BAR = """{% from "_lists.html" import filter_bar %}
{{ filter_bar('/things/', '#thing-results', label=label, wrap_labels=wrap,
     search={'id': 'filter-q', 'label': 'Search', 'value': 'oslo <b>', 'placeholder': 'Name or key', 'maxlength': 100},
     selects=[
       {'id': 'filter-status', 'name': 'status', 'label': 'Status', 'any': 'All statuses',
        'options': ['draft', 'active'], 'texts': ['Draft', 'Active'], 'selected': 'active'},
       {'id': 'filter-group', 'name': 'group', 'label': 'Group', 'any': 'All',
        'options': [7, 12], 'texts': ['Bergen', 'Kraków'], 'selected': 12},
       {'id': 'filter-template', 'name': 'template', 'label': 'Template', 'any': 'All',
        'options': ['buddy', 'language'], 'selected': none},
     ]) }}"""

RESULTS = """{% from "_lists.html" import results_table, pager %}
{% call(row) results_table('thing-results', ['Name', 'Size'], rows, 'Nothing matches.', label=label,
     more=pager(page, 'program_templates.index', {'q': 'oslo'}, '#thing-results')) %}
<tr><td>{{ row.name }}</td><td>{{ row.size }}</td></tr>
{% endcall %}"""


class Elements(HTMLParser):
    """Every start tag as (tag, attributes), and each <label>'s text with the control it names."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.labels: list[tuple[str, str | None]] = []  # (text, name of the control inside or for= id)
        self._label: list[str] | None = None
        self._label_for: str | None = None
        self._option: dict | None = None
        self.options: dict[str, list[tuple[str, str, bool]]] = {}  # select name → (value, text, selected)
        self._select: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "label":
            self._label, self._label_for = [], attributes.get("for")
        elif tag in ("input", "select") and self._label is not None and self._label_for is None:
            self._label_for = "name:" + attributes["name"]
        if tag == "select":
            self._select = attributes["name"]
            self.options[self._select] = []
        elif tag == "option":
            self._option = {"value": attributes["value"], "text": "", "selected": "selected" in attributes}

    def handle_endtag(self, tag):
        if tag == "label" and self._label is not None:
            self.labels.append(("".join(self._label).strip(), self._label_for))
            self._label = None
        elif tag == "option" and self._option is not None:
            self.options[self._select].append((self._option["value"], self._option["text"], self._option["selected"]))
            self._option = None

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        elif self._label is not None:
            self._label.append(data)

    def first(self, tag: str, **attrs) -> dict:
        return next(a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items()))


def render(app, source: str, **context) -> str:
    with app.test_request_context("/"):
        return render_template_string(source, **context)


def test_filter_bar_renders_labels_names_and_selected_values(app):
    page = Elements(render(app, FILTER_BAR, label=None, wrap=False))

    form = page.first("form")
    assert form["class"] == "filters" and form["method"] == "get" and form["action"] == "/things/"
    assert form["role"] == "search" and "aria-label" not in form
    assert (form["hx-get"], form["hx-target"], form["hx-select"]) == ("/things/", "#thing-results", "#thing-results")
    assert (form["hx-swap"], form["hx-push-url"]) == ("outerHTML", "true")
    assert form["hx-trigger"] == "change, input changed delay:300ms from:find input[name=q]"

    assert page.labels == [("Search", "filter-q"), ("Status", "filter-status"), ("Group", "filter-group"),
                           ("Template", "filter-template")]
    search = page.first("input", type="search")
    assert (search["id"], search["name"], search["value"]) == ("filter-q", "q", "oslo <b>")  # escaped, not markup
    assert (search["placeholder"], search["maxlength"]) == ("Name or key", "100")
    assert page.first("select", name="status")["id"] == "filter-status"

    assert page.options["status"] == [("", "All statuses", False), ("draft", "Draft", False),
                                      ("active", "Active", True)]
    assert page.options["group"] == [("", "All", False), ("7", "Bergen", False), ("12", "Kraków", True)]
    assert page.options["template"] == [("", "All", False), ("buddy", "buddy", False),  # no texts: the values
                                        ("language", "language", False)]
    submit = page.first("button")
    assert submit["type"] == "submit" and any(t == "noscript" for t, _ in page.tags)


def test_filter_bar_with_controls_inside_their_labels_and_a_name(app):
    page = Elements(render(app, FILTER_BAR, label="Filter things", wrap=True))
    assert page.first("form")["aria-label"] == "Filter things"
    assert not any(a.get("class") == "filters__field" for _, a in page.tags)
    assert [text.split()[0] for text, _ in page.labels] == ["Search", "Status", "Group", "Template"]
    assert [control for _, control in page.labels] == ["name:q", "name:status", "name:group", "name:template"]


def test_a_filter_bar_without_search_filters_on_change_only(app):
    html = render(app, """{% from "_lists.html" import filter_bar %}{{ filter_bar('/t/', '#r', selects=[
        {'id': 'filter-role', 'name': 'role', 'label': 'Role', 'any': 'All roles', 'options': ['a'], 'selected': ''}]) }}""")
    page = Elements(html)
    assert page.first("form")["hx-trigger"] == "change"
    assert page.labels == [("Role", "filter-role")] and page.options["role"] == [("", "All roles", False), ("a", "a", False)]


def test_results_table_rows_empty_row_and_pager(app):
    rows = [{"name": "Alpha", "size": 3}, {"name": "Beta", "size": 5}]
    html = render(app, RESULTS, rows=rows, page={"next_cursor": "abc"}, label="Things found")
    assert html.lstrip().startswith('<div id="thing-results">')  # what the filter bar swaps
    page = Elements(html)
    wrap = page.first("div", **{"class": "table-wrap"})
    assert wrap == {"class": "table-wrap", "tabindex": "0", "role": "region", "aria-label": "Things found"}
    assert [a["scope"] for t, a in page.tags if t == "th"] == ["col", "col"]
    assert "<td>Alpha</td><td>3</td>" in html and "<td>Beta</td><td>5</td>" in html and "Nothing matches." not in html
    link = page.first("a")
    assert page.first("nav") == {"class": "pager", "aria-label": "Pages"}
    assert link["href"] == "/templates/?after=abc&q=oslo" and link["hx-get"] == link["href"]
    assert (link["hx-target"], link["hx-select"], link["hx-push-url"]) == ("#thing-results", "#thing-results", "true")

    empty = render(app, RESULTS, rows=[], page={"next_cursor": None}, label=None)
    assert '<td colspan="2" class="empty">Nothing matches.</td>' in empty
    assert Elements(empty).first("div", **{"class": "table-wrap"}) == {"class": "table-wrap", "tabindex": "0"}
    assert 'class="pager"' not in empty
