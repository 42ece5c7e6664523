-- Contact details of citizen accounts (registered on the portal with their citizen ID).
ALTER TABLE users ADD COLUMN phone TEXT;
ALTER TABLE users ADD COLUMN email TEXT;
