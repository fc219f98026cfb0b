-- _id is searched and sorted on resource.id (the resource_type_id key); the idx_token rows that
-- every resource had for it were never read. New writes no longer extract them.
DELETE FROM idx_token WHERE param IN (SELECT id FROM search_param WHERE code = '_id');
