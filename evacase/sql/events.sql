-- disable_event_exports --
-- Record this transaction's case events unexported (PushCase's DisableEventExports; record_case_event reads it).
SELECT set_config('evacase.disable_event_exports', 'on', true)
