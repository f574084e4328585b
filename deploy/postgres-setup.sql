-- The PostgreSQL role and database of the bot (run once as the postgres superuser):
--   sudo -u postgres psql -v password="'a-long-random-password'" -f deploy/postgres-setup.sql
-- Then DATABASE_URL=postgresql+asyncpg://villagebot:<password>@127.0.0.1:5432/villagebot
-- and `python -m bot db upgrade` creates the tables (the role owns the database, so it may).
CREATE ROLE villagebot LOGIN PASSWORD :password;
CREATE DATABASE villagebot OWNER villagebot ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0;
\connect villagebot
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO villagebot;
