"""The feedback exporter the grading workers use (and coordkit.grading.feedback_page's refresh):
nbgrader's HTML feedback with its compiled templates cached on disk. The page itself is coordkit's
feedback template (templates/coordkit_feedback/, configured by coordkit.grading.feedback_page)."""

from __future__ import annotations

import os
import re


def _feedback_exporter():
    """nbgrader's feedback exporter (HTML) with its compiled templates kept on disk for the run:
    stock nbgrader compiles them once per command, a worker would compile them per submission. The
    page itself is coordkit's feedback template, set in nbgrader_config.py for FeedbackPageExporter
    (coordkit.grading.feedback_page.configure), which this class extends."""
    from jinja2 import FileSystemBytecodeCache
    from traitlets import Unicode

    from .feedback_page import FeedbackPageExporter

    from nbconvert.exporters.html import Highlight2HTML, WidgetsDataTypeFilter
    from nbconvert.exporters.templateexporter import TemplateExporter

    no_alt = re.compile(r"<img(?![^>]*\balt=)")
    focusable = re.compile(r'<div class="((?:[^"]* )?(?:jp-Cell-inputWrapper|jp-OutputArea-output)(?: [^"]*)?)"')

    class FeedbackExporter(FeedbackPageExporter):
        """nbconvert's HTMLExporter, whose last step (images without alternative text get one, inputs
        and outputs become focusable) is done on the template's known markup instead of re-parsing the
        whole page with BeautifulSoup, which took a third of the time per submission."""

        template_cache = Unicode("", help="folder for compiled templates").tag(config=True)

        def from_notebook_node(self, nb, resources=None, **kw):
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                     resources=resources)
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            html = no_alt.sub('<img alt="No description has been provided for this image"', html)
            return focusable.sub(r'<div class="\1" tabindex="0"', html), resources

        def _create_environment(self):
            environment = super()._create_environment()
            if self.template_cache:
                os.makedirs(self.template_cache, exist_ok=True)
                environment.bytecode_cache = FileSystemBytecodeCache(self.template_cache)
            return environment

    return FeedbackExporter
