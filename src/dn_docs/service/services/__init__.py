"""The service layer: what the API's routers and the web app (:mod:`dn_docs.web`) call.

Each function takes a SQLAlchemy session (``dn_docs.service.db.session()``) and, where
it acts for a clinic, a :class:`~dn_docs.service.services.access.Caller`; it raises
:mod:`dn_docs.errors` exceptions (``RequestError`` with field reasons, ``NotFoundError``
for another clinic's object, ...).

- ``clinics``: ``create_clinic``, ``get_clinic``, ``list_clinics``, ``update_profile``,
  ``set_logo``, ``remove_logo``, ``request_defaults``
- ``keys``: ``create_key``, ``revoke_key``, ``revoke_own_key``, ``list_keys``, ``authenticate``
- ``documents``: ``build_request``, ``create_document``, ``get_document``,
  ``recent_documents``, ``stored_request``,
  ``document_pdf``; ``render_stored`` (in render processes)
- ``batches``: ``create_batch`` (``staged`` for the web app), ``preview_staged``,
  ``start_staged``, ``recent_batches``, ``get_batch``, ``progress``, ``batch_documents``,
  ``batch_file``, ``cancel_batch``; ``plan_stored``, ``finish_stored`` (in render processes)
- ``users``: ``create_user``, ``add_user``, ``list_users``, ``verify_password``,
  ``caller_of``, ``set_locale`` (people who sign in to the web app)
- ``sign_in``: ``sign_in``, ``session_user``, ``sign_out``, ``blocked`` (web sessions and
  the limit on failed sign-ins)
- ``verify``: ``verify_pdf``
- ``signing``: ``start_session``, ``get_session``, ``signed_pdf``, ``end_session``; on the
  tablet ``open_link``, ``device_session``, ``tablet_view``, ``add_signature``,
  ``enter_pin``, ``leave``; ``seal_stored`` (in render processes)
- ``catalog``: ``content_items``, ``languages``
- ``audit``: ``record``, ``events``
- ``idempotency``: ``begin``, ``complete``, ``abandon``
- ``retention``: ``purge_expired``
"""
