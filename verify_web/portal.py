"""The portal of enterprises and printers.

Printers see the batches assigned to them and download their run files; enterprises see
their batches and request new ones. Refusals from the domain come back as messages in the
reader's language, and a refused request stores nothing (the transaction rolls back).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField
from wtforms.validators import InputRequired

from gimark.core.db import utcnow
from gimark.core.errors import GimarkError, not_found
from gimark.core.settings import Settings
from gimark.labels.issuing.batches import get_batch, list_batches, request_batch
from gimark.verify_web import errors
from gimark.verify_web.accounts.auth import protect_forms, role_required, signed_in
from gimark.verify_web.accounts.errors import BatchNotAssignedError
from gimark.verify_web.accounts.models import Role
from gimark.verify_web.accounts.services import actor_of
from gimark.verify_web.batch_rows import authorized_products, batch_rows
from gimark.verify_web.extensions import database
from gimark.verify_web.i18n import error_message
from gimark.verify_web.run_files import find_run_file

bp = Blueprint("portal", __name__, url_prefix="/portal")
protect_forms(bp)


class BatchRequestForm(FlaskForm):  # type: ignore[misc]
    # Choices are not validated here: request_batch is the authority on what an enterprise
    # may request, and its refusal carries the reason (suspended, expired …).
    product = SelectField(coerce=int, validate_choice=False, validators=[InputRequired()])
    quantity = IntegerField(validators=[InputRequired()])


def _settings() -> Settings:
    settings = current_app.config["GIMARK_SETTINGS"]
    assert isinstance(settings, Settings)
    return settings


@bp.get("/")
@role_required(*Role)
def index() -> ResponseReturnValue:
    """Each role to its own page."""
    role = signed_in().role
    if role is Role.PRINTER:
        return redirect(url_for("portal.printer"))
    if role is Role.ENTERPRISE:
        return redirect(url_for("portal.enterprise"))
    return render_template("portal/home.html")


@bp.get("/printer/")
@role_required(Role.PRINTER)
def printer() -> ResponseReturnValue:
    """The batches assigned to the signed-in printer, with their run files."""
    with database(current_app).session() as s:
        batches = list_batches(s, printer_id=signed_in().printer_id)
        rows = batch_rows(s, batches, _settings())
    return render_template("portal/printer.html", rows=rows)


@bp.get("/printer/batches/<int:batch_id>/files/<path:name>")
@role_required(Role.PRINTER)
def download(batch_id: int, name: str) -> ResponseReturnValue:
    """One file of a completed run of a batch assigned to the signed-in printer.

    The assignment is checked before the file is looked up, so another printer learns
    nothing about the files of a batch that is not theirs.
    """
    with database(current_app).session() as s:
        batch = get_batch(s, batch_id)
        if batch.printer_id is None or batch.printer_id != signed_in().printer_id:
            raise BatchNotAssignedError(id=batch_id)
    found = find_run_file(_settings(), batch_id, name)
    if found is None:
        raise not_found("文件", "file", name)
    response = send_file(
        found.path,
        as_attachment=True,
        download_name=PurePosixPath(found.name).name,
        conditional=True,
        max_age=0,
    )
    response.cache_control.private = True  # a printer's files stay out of shared caches
    return response


@bp.get("/enterprise/")
@role_required(Role.ENTERPRISE)
def enterprise() -> ResponseReturnValue:
    """The enterprise's batches and the form to request one."""
    form = BatchRequestForm()
    enterprise_id = signed_in().enterprise_id
    assert enterprise_id is not None  # create_account requires it for this role
    with database(current_app).session() as s:
        rows = batch_rows(s, list_batches(s, enterprise_id=enterprise_id))
        form.product.choices = authorized_products(s, enterprise_id, utcnow())
    return render_template("portal/enterprise.html", rows=rows, form=form)


@bp.post("/enterprise/batches")
@role_required(Role.ENTERPRISE)
def request_labels() -> ResponseReturnValue:
    """Request a batch; the outcome is flashed on the enterprise page."""
    form = BatchRequestForm()
    user = signed_in()
    assert user.enterprise_id is not None  # create_account requires it for this role
    if not form.validate_on_submit():
        for messages in form.errors.values():
            for message in messages:
                flash(str(message), "error")
        return redirect(url_for("portal.enterprise"))
    try:
        with database(current_app).session() as s:
            batch = request_batch(
                s,
                enterprise_id=user.enterprise_id,
                product_id=form.product.data,
                quantity=form.quantity.data,
                actor=actor_of(user.username),
                max_quantity=_settings().max_batch_quantity,
            )
            batch_id = batch.id
    except GimarkError as exc:
        flash(error_message(exc), "error")
    else:
        flash(gettext("Batch %(id)s requested; it awaits approval.", id=batch_id), "ok")
    return redirect(url_for("portal.enterprise"))


def init_app(app: Flask) -> None:
    """Register the blueprint; its failures answer HTML pages."""
    errors.serve_html_errors(app, bp)
    app.register_blueprint(bp)
