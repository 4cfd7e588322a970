# Allocation-heavy Perl workload for the real-program test: hashes, arrays, regexes, sort,
# sprintf and string growth. Prints a digest that must not depend on the allocator.
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);

my $ctx = Digest::MD5->new;
for my $round (1 .. 6) {
  my %h;
  for my $i (1 .. 80000) {
    my $k = sprintf("key%07d", ($i * 7919) % 1000003);
    $h{$k} .= "v$i;";
  }
  my @keys = sort { length($h{$b}) <=> length($h{$a}) || $a cmp $b } keys %h;
  $ctx->add(join(",", @keys[0 .. 99]));
  my @recs = map { { id => $_, text => ("abc" x ($_ % 17)) . $_ } } 1 .. 50000;
  my $matched = grep { $_->{text} =~ /(abc){3,}\d*7$/ } @recs;
  $ctx->add("m$matched");
  my $s = "";
  for my $i (1 .. 50000) { $s .= chr(65 + $i % 26); $s = substr($s, 5000) if length($s) > 20000 }
  (my $t = $s) =~ s/([AEIOU])/lc($1) x 3/ge;
  $ctx->add(md5_hex($t));
  my @nested = map { [ map { $_ * $round } 1 .. ($_ % 30) ] } 1 .. 20000;
  my $sum = 0;
  $sum += scalar(@$_) for @nested;
  $ctx->add("s$sum");
}
print "perl alloc_heavy digest ", $ctx->hexdigest, "\n";
