"""The IVR editor: a menu's draft as a tree, edited in place, validated, published, exported, listened to.

Handler → store: each POST loads the draft (or the published version when
there is no draft yet), applies one pure edit from :mod:`admin.views.ivr_editor_edit`,
saves it with ``ivr.menu.store.save_draft`` and an audit entry in the same
transaction, and redirects back to the node. Publishing goes through
``ivr.menu.store.publish`` (validates against the prompt catalogue, retires the
old version, one transaction); a broken draft is refused with its problems.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, request, send_file, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select

from admin import audit
from admin.extensions import db
from admin.i18n import gettext
from admin.params import int_arg
from admin.paths import scrub
from admin.views.base import SecureBaseView
from admin.views.ivr_audio import AudioError, prompt_builder, recording_status, render_prompt, render_text, \
    save_recording
from admin.views.ivr_editor_edit import EditError, add_node, answers_text, build_tree, new_menu, node_fields, \
    other_fields_yaml, problems_by_node, remove_node, remove_option, set_hours, set_option, set_purpose, update_node
from crm_core.models.ivr_menus import IvrMenu, IvrMenuVersion
from ivr.exceptions import MenuFormatError, MenuInvalid, MenuNotFound, MenuVersionConflict
from ivr.menu import store
from ivr.menu.model import NODE_TYPES, PURPOSES, WEEKDAYS, MenuDefinition
from ivr.menu.validate import validate
from ivr.menu.yaml_io import dump_yaml, from_dict, load_yaml

DEFAULT_MENU = "main"
MAX_YAML_BYTES = 1024 * 1024


def _menu_name() -> str:
    return (request.values.get("menu") or DEFAULT_MENU).strip()


def _load(name: str) -> tuple[MenuDefinition | None, str]:
    """(definition, where it came from: ``draft`` / ``published`` / ``none``) of a menu."""
    try:
        return store.draft_definition(db.session, name), "draft"
    except MenuNotFound:
        pass
    try:
        return store.published(db.session, name).definition, "published"
    except MenuNotFound:
        return None, "none"


def _user() -> str:
    return current_user.username


class IvrEditorView(SecureBaseView):
    """Menus as a tree of nodes with options as edges; roles admin and supervisor (see ``admin.roles``)."""

    method_permissions = {
        "index": "view", "save_node": "edit", "save_option": "edit", "delete_option": "edit",
        "create_node": "edit", "delete_node": "edit", "save_hours": "edit", "save_purpose": "edit",
        "create_menu": "edit",
        "publish": "publish", "export": "export", "import_yaml": "edit", "listen": "listen",
        "upload_recording": "upload",
    }

    # -- page -----------------------------------------------------------------------------
    @expose("/")
    def index(self) -> Any:
        name = _menu_name()
        menu, source = _load(name)
        names = list(db.session.scalars(select(IvrMenu.name).order_by(IvrMenu.name)))
        context: dict[str, Any] = {"menu_name": name, "menus": names, "menu": menu, "source": source,
                                   "node_types": sorted(NODE_TYPES), "weekdays": WEEKDAYS, "purposes": PURPOSES,
                                   "can_edit": self.permitted("edit")}
        if menu is not None:
            builder = prompt_builder()
            problems = validate(menu, builder.catalogue)
            by_node, general = problems_by_node(problems)
            context.update(
                tree=build_tree(menu), problems=problems, problems_by_node=by_node, general_problems=general,
                history=store.history(db.session, name), other_yaml=other_fields_yaml, fields_of=node_fields,
                answers_text=answers_text,
                catalogue=builder.catalogue, has_recording=lambda p, lang: recording_status(builder, p, lang),
                announcements=[n for n in menu.nodes.values() if n.kind == "announcement"],
                published_version=self._published_version(name),
            )
        return self.render("ivr/editor.html", **context)

    def _published_version(self, name: str) -> int | None:
        return db.session.scalar(select(IvrMenuVersion.version).join(IvrMenu).where(
            IvrMenu.name == name, IvrMenuVersion.status == "published"))

    def _back(self, name: str, anchor: str | None = None) -> Any:
        url = url_for(".index", menu=name)
        return redirect(f"{url}#node-{anchor}" if anchor else url)

    def _edit(self, action: str, edit: Any, anchor: str | None = None, **details: Any) -> Any:
        """Load the draft, apply ``edit(menu) -> menu``, save it with an audit entry; flash errors."""
        name = _menu_name()
        menu, _ = _load(name)
        if menu is None:
            flash(gettext("There is no menu named %(name)s.", name=name), "error")
            return self._back(DEFAULT_MENU)
        try:
            changed = edit(menu)
        except (EditError, KeyError) as exc:
            db.session.rollback()
            flash(gettext("Not saved: %(message)s", message=scrub(str(exc).strip("'\""))), "error")
            return self._back(name, anchor)
        draft = store.save_draft(db.session, changed, by=_user())
        audit.record(action, IvrMenuVersion.__tablename__, draft.id,
                     {"menu": name, "version": draft.version, **details})
        db.session.commit()
        problems = validate(changed, prompt_builder().catalogue)
        if problems:
            flash(gettext("Draft saved with %(n)s problem(s) to fix before publishing.", n=len(problems)), "warning")
        else:
            flash(gettext("Draft saved."), "success")
        return self._back(name, anchor)

    # -- node and option edits ------------------------------------------------------------
    @expose("/node", methods=("POST",))
    def save_node(self) -> Any:
        node_id = request.form.get("node_id", "")
        return self._edit("ivr-node", lambda m: update_node(m, node_id, request.form), node_id, node=node_id)

    @expose("/node/add", methods=("POST",))
    def create_node(self) -> Any:
        node_id = request.form.get("node_id", "").strip()
        parent, key = request.form.get("parent", "").strip(), request.form.get("key", "").strip()
        return self._edit("ivr-node-add", lambda m: add_node(m, node_id, request.form.get("kind", ""), parent, key),
                          node_id, node=node_id, kind=request.form.get("kind"), parent=parent or None)

    @expose("/node/delete", methods=("POST",))
    def delete_node(self) -> Any:
        node_id = request.form.get("node_id", "")
        removed: list[str] = []

        def edit(menu: MenuDefinition) -> MenuDefinition:
            changed, gone = remove_node(menu, node_id)
            removed.extend(gone)
            return changed

        return self._edit("ivr-node-delete", edit, None, node=node_id, options_removed=removed)

    @expose("/option", methods=("POST",))
    def save_option(self) -> Any:
        node_id, old_key = request.form.get("node_id", ""), request.form.get("old_key", "")
        return self._edit("ivr-option", lambda m: set_option(m, node_id, old_key, request.form), node_id,
                          node=node_id, key=request.form.get("key"), target=request.form.get("target"))

    @expose("/option/delete", methods=("POST",))
    def delete_option(self) -> Any:
        node_id, key = request.form.get("node_id", ""), request.form.get("key", "")
        return self._edit("ivr-option-delete", lambda m: remove_option(m, node_id, key), node_id, node=node_id,
                          key=key)

    @expose("/hours", methods=("POST",))
    def save_hours(self) -> Any:
        return self._edit("ivr-hours", lambda m: set_hours(m, request.form), "hours")

    @expose("/purpose", methods=("POST",))
    def save_purpose(self) -> Any:
        purpose = request.form.get("purpose", "")
        return self._edit("ivr-purpose", lambda m: set_purpose(m, purpose), None, purpose=purpose)

    @expose("/new", methods=("POST",))
    def create_menu(self) -> Any:
        name = request.form.get("menu", "").strip()
        if _load(name)[0] is not None:
            flash(gettext("There is already a menu named %(name)s.", name=name), "error")
            return self._back(name)
        try:
            menu = new_menu(name)
        except EditError as exc:
            flash(gettext("Not saved: %(message)s", message=scrub(str(exc))), "error")
            return self._back(DEFAULT_MENU)
        draft = store.save_draft(db.session, menu, by=_user())
        audit.record("ivr-menu-create", IvrMenuVersion.__tablename__, draft.id, {"menu": name})
        db.session.commit()
        return self._back(name)

    # -- publish, history, YAML -----------------------------------------------------------
    @expose("/publish", methods=("POST",))
    def publish(self) -> Any:
        name = _menu_name()
        try:
            done = store.publish(db.session, name, by=_user(), catalogue=prompt_builder().catalogue)
        except MenuInvalid as exc:
            db.session.rollback()
            flash(gettext("Not published: the draft has %(n)s problem(s).", n=len(exc.problems)), "error")
            return self._back(name)
        except (MenuVersionConflict, MenuNotFound):
            db.session.rollback()
            flash(gettext("There is no draft to publish."), "error")
            return self._back(name)
        audit.record("ivr-publish", IvrMenuVersion.__tablename__, done.version_id,
                     {"menu": name, "version": done.version})
        db.session.commit()
        flash(gettext("Version %(version)s published: new calls use it.", version=done.version), "success")
        return self._back(name)

    @expose("/export")
    def export(self) -> Any:
        name = _menu_name()
        version = int_arg("version", minimum=1)
        if version is not None:
            row = db.session.scalar(select(IvrMenuVersion).join(IvrMenu).where(
                IvrMenu.name == name, IvrMenuVersion.version == version))
            if row is None:
                return Response(gettext("No such version."), status=404, mimetype="text/plain")
            menu = from_dict(row.document_dict())
        else:
            menu, _ = _load(name)
            if menu is None:
                return Response(gettext("No such menu."), status=404, mimetype="text/plain")
        filename = f"{name}-v{version}.yaml" if version is not None else f"{name}.yaml"
        return Response(dump_yaml(menu), mimetype="application/x-yaml; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    @expose("/import", methods=("POST",))
    def import_yaml(self) -> Any:
        upload = request.files.get("file")
        raw = upload.read(MAX_YAML_BYTES + 1) if upload is not None else b""
        fallback = _menu_name()
        if not raw or len(raw) > MAX_YAML_BYTES:
            flash(gettext("Choose a YAML file of at most 1 MB."), "error")
            return self._back(fallback)
        try:
            menu = load_yaml(raw.decode("utf-8"))
        except (UnicodeDecodeError, MenuFormatError) as exc:
            flash(gettext("Not imported: %(message)s", message=scrub(str(exc))[:500]), "error")
            return self._back(fallback)
        draft = store.save_draft(db.session, menu, by=_user(), comment="imported from YAML")
        audit.record("ivr-import", IvrMenuVersion.__tablename__, draft.id,
                     {"menu": menu.name, "version": draft.version, "file": upload.filename})
        db.session.commit()
        flash(gettext("Imported as the draft of %(name)s; check it and publish.", name=menu.name), "success")
        return self._back(menu.name)

    # -- audio ----------------------------------------------------------------------------
    @expose("/listen")
    def listen(self) -> Any:
        """A node's prompt (or a catalogue prompt) spoken in one language, as audio/wav."""
        builder = prompt_builder()
        lang = request.args.get("lang", "zh")
        try:
            prompt_id = request.args.get("prompt")
            if prompt_id:
                path = render_prompt(builder, prompt_id, lang)
            else:
                menu, _ = _load(_menu_name())
                node_id = request.args.get("node", "")
                if menu is None or node_id not in menu.nodes:
                    return Response(gettext("No such node."), status=404, mimetype="text/plain")
                node = menu.nodes[node_id]
                text = (getattr(node, "text", None) or {}).get(lang)
                if text:
                    path = render_text(builder, text, lang)
                elif getattr(node, "prompt", None):
                    path = render_prompt(builder, node.prompt, lang)
                else:
                    raise AudioError(gettext("This node says nothing in this language."))
        except AudioError as exc:
            return Response(str(exc), status=422, mimetype="text/plain")
        return send_file(path, mimetype="audio/wav", max_age=0)

    @expose("/recording", methods=("POST",))
    def upload_recording(self) -> Any:
        name = _menu_name()
        prompt_id, lang = request.form.get("prompt", "").strip(), request.form.get("lang", "")
        upload = request.files.get("file")
        data = upload.read(25 * 1024 * 1024) if upload is not None else b""
        try:
            stored = save_recording(prompt_builder(), prompt_id, lang, data)
        except AudioError as exc:
            flash(gettext("Recording refused: %(message)s", message=str(exc)), "error")
            return self._back(name, request.form.get("node_id") or None)
        audit.record("prompt-recording", "prompt_recordings", f"{lang}/{prompt_id}", stored)
        db.session.commit()
        flash(gettext("Recording for %(prompt)s (%(lang)s) installed: %(seconds)s s.", prompt=prompt_id, lang=lang,
                      seconds=stored["seconds"]), "success")
        return self._back(name, request.form.get("node_id") or None)
