pub struct SmtpSink;
