"""The service layer: what the API's routers (and the web app) call.

Each function takes a SQLAlchemy session (``dn_docs.service.db.session()``) and, where
it acts for a clinic, a :class:`~dn_docs.service.services.access.Caller`; it raises
:mod:`dn_docs.errors` exceptions (``RequestError`` with field reasons, ``NotFoundError``
for another clinic's object, ...).

- ``clinics``: ``create_clinic``, ``get_clinic``, ``list_clinics``, ``update_profile``,
  ``set_logo``, ``remove_logo``, ``request_defaults``
- ``keys``: ``create_key``, ``revoke_key``, ``list_keys``, ``authenticate``
- ``documents``: ``build_request``, ``create_document``, ``get_document``,
  ``document_pdf``; ``render_stored`` (in render processes)
- ``batches``: ``create_batch``, ``get_batch``, ``progress``, ``batch_documents``,
  ``batch_file``, ``cancel_batch``; ``plan_stored``, ``finish_stored`` (in render processes)
- ``verify``: ``verify_pdf``
- ``signing``: ``start_session``, ``get_session``, ``signed_pdf``, ``end_session``; on the
  tablet ``open_link``, ``device_session``, ``tablet_view``, ``add_signature``,
  ``enter_pin``, ``leave``; ``seal_stored`` (in render processes)
- ``catalog``: ``content_items``, ``languages``
- ``audit``: ``record``, ``events``
- ``idempotency``: ``begin``, ``complete``, ``abandon``
- ``retention``: ``purge_expired``
"""
