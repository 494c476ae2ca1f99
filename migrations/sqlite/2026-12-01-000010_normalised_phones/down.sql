-- The form each number was typed in is not kept; they go back to the national form.
UPDATE questions SET asker_phone = '0' || substr(asker_phone, 4)
WHERE asker_phone LIKE '+84%' AND length(asker_phone) = 12;
