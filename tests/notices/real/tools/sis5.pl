use lib '/root/sisimai5/lib';
use Sisimai;
for my $f (@ARGV) {
  my $v = Sisimai->rise($f, 'delivered' => 1, 'vacation' => 1);
  if (!$v) { print "$f: (sisimai: nothing)\n"; next }
  for my $e (@$v) { printf "%s: rcpt=%s action=%s status=%s reason=%s replycode=%s cmd=%s\n", $f, $e->recipient->address, $e->action, $e->deliverystatus, $e->reason, $e->replycode, $e->smtpcommand; }
}
